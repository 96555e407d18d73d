/**
 * Exact decimal arithmetic on strings, for `decimals` rounding and `{sum:column}` trailers.
 *
 * Money columns arrive as decimal text (`Decimal`) precisely so that they never pass through a
 * binary float; rounding or summing them with `Number` would undo that. Everything here works on
 * digit strings and `bigint` scaled integers instead.
 */

/** Plain or exponent decimal text: `-12.50`, `.5`, `7.`, `1e-7`, `+3E+2`. */
const NUMERIC_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** An integer written without a fraction or exponent. */
const INTEGER_RE = /^[+-]?\d+$/;

/** Whether `text` is a finite decimal number in plain or exponent notation. */
export function isNumericText(text: string): boolean {
  return NUMERIC_RE.test(text);
}

/** Whether `text` is an integer in plain notation (no fraction, no exponent). */
export function isIntegerText(text: string): boolean {
  return INTEGER_RE.test(text);
}

/** The non-finite spellings PostgreSQL uses for `numeric` and `float8`; they pass through unchanged. */
export function isNonFiniteText(text: string): boolean {
  return text === 'NaN' || text === 'Infinity' || text === '-Infinity';
}

/** A decimal split into sign and digits, with the exponent already applied. */
interface DecimalParts {
  negative: boolean;
  /** Integer digits without leading zeros ('' for zero). */
  int: string;
  /** Fraction digits, trailing zeros kept (they carry the scale, '1.50' has two). */
  frac: string;
}

/**
 * Split numeric text into sign, integer digits and fraction digits, moving the decimal point by
 * the exponent. Only digit strings are shifted, so '1e-7' becomes exactly 0.0000001.
 * The caller has checked the text with {@link isNumericText}.
 */
function splitDecimal(text: string): DecimalParts {
  let s = text;
  let negative = false;
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  let exp = 0;
  const e = s.search(/[eE]/);
  if (e >= 0) {
    exp = Number(s.slice(e + 1));
    // Guard against '1e999999999' expanding into a gigabyte of zeros.
    if (Math.abs(exp) > 4096) throw new RangeError(`exponent of '${text}' is out of range`);
    s = s.slice(0, e);
  }
  const dot = s.indexOf('.');
  let int = dot >= 0 ? s.slice(0, dot) : s;
  let frac = dot >= 0 ? s.slice(dot + 1) : '';
  if (exp > 0) {
    // Move `exp` fraction digits into the integer part, padding with zeros when there are fewer.
    const moved = frac.padEnd(exp, '0');
    int += moved.slice(0, exp);
    frac = frac.length > exp ? frac.slice(exp) : '';
  } else if (exp < 0) {
    const n = -exp;
    const padded = int.padStart(n, '0');
    frac = padded.slice(padded.length - n) + frac;
    int = padded.slice(0, padded.length - n);
  }
  int = int.replace(/^0+/, '');
  return { negative, int, frac };
}

/** Text of `negative`·`digits`·10^-`scale` as a plain decimal with exactly `scale` fraction digits. */
function scaledToText(value: bigint, scale: number): string {
  const negative = value < 0n;
  let digits = (negative ? -value : value).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  // A zero result is written without a sign: SQL numeric has no negative zero.
  return negative ? `-${digits}` : digits;
}

/**
 * Round numeric text to `places` fraction digits, half away from zero, padding with zeros.
 * Works on the digits, never through a float: ('2.345', 2) → '2.35', ('-2.345', 2) → '-2.35',
 * ('7', 2) → '7.00', ('1e-7', 8) → '0.00000010'. Non-finite text ('NaN', 'Infinity') is returned
 * unchanged; anything else that is not numeric throws a RangeError.
 */
export function roundDecimal(text: string, places: number): string {
  if (isNonFiniteText(text)) return text;
  if (!NUMERIC_RE.test(text)) throw new RangeError(`'${text}' is not a number`);
  const { negative, int, frac } = splitDecimal(text);
  let kept = BigInt((int || '0') + frac.slice(0, places).padEnd(places, '0'));
  // Half away from zero: the first dropped digit decides, whatever follows it.
  if (frac.length > places && frac.charCodeAt(places) >= 53 /* '5' */) kept += 1n;
  return scaledToText(negative ? -kept : kept, places);
}

/**
 * An exact running total of decimal texts, kept as a `bigint` scaled by 10^scale. The scale
 * grows to the largest number of fraction digits seen, like SQL `SUM` over `numeric`, so
 * '1.50' + '2.5' is '4.00'.
 */
export class DecimalSum {
  private total = 0n;
  private scale = 0;

  /** Add numeric text; returns false (and adds nothing) when the text is not a finite number. */
  add(text: string): boolean {
    if (!NUMERIC_RE.test(text)) return false;
    let parts: DecimalParts;
    try {
      parts = splitDecimal(text);
    } catch {
      return false;
    }
    const { negative, int, frac } = parts;
    if (frac.length > this.scale) {
      this.total *= 10n ** BigInt(frac.length - this.scale);
      this.scale = frac.length;
    }
    const v = BigInt((int || '0') + frac.padEnd(this.scale, '0'));
    this.total += negative ? -v : v;
    return true;
  }

  /** The total as plain decimal text ('0' when nothing was added). */
  toString(): string {
    return scaledToText(this.total, this.scale);
  }
}
