/**
 * Values of a load checked and converted against the target table's columns, before any is sent.
 *
 * The databases disagree about what they do with a value that does not fit: PostgreSQL rounds
 * `1.005` into `numeric(12,2)` silently and reads the `Z` of an instant as nothing in a
 * `timestamp` column (a 9-hour shift for a `+09:00` value), SQLite turns an integer beyond int64
 * into a REAL, MySQL rounds decimal fractions with only a note. So every adapter describes the
 * target's columns once per load ({@link ColumnKind}) and each value passes through the column's
 * preparer here, which either returns the value to send or refuses it ({@link RejectedRowError}:
 * the file is rejected, exit 4). The rule is the same on every database (SPEC §4):
 * - an instant goes into an instant column as that instant, into a wall-clock column (PostgreSQL
 *   `timestamp`, MySQL `DATETIME`) as its wall-clock time in the config zone; a wall time goes in
 *   as written (an instant column reads it in the config zone, the session zone of every dialect);
 * - an integer must lie in the column's range; a decimal must fit its precision and scale without
 *   rounding (more fraction digits than the scale is a rejection, trailing zeros are not);
 * - a float column takes decimal text only up to the digits it keeps exactly;
 * - dates and timestamps of year 0000 exist on no target (nor in ferry's values);
 * - PostgreSQL text cannot hold a NUL character.
 * Anything the check does not know (a type it does not describe) is left to the database, whose
 * data errors are still mapped to a rejection naming the row (`dataError` of each dialect).
 */
import { RejectedRowError } from '../errors.js';
import { Decimal, Instant, LocalDate, WallTime, type Value } from '../values.js';
import { plainNumberText } from './convert.js';
import { WallClock } from './ingest.js';
import type { Dialect } from './types.js';

/** What a load needs to know about one target column. */
export type ColumnKind =
  /** An integer column with its inclusive range. */
  | { kind: 'int'; min: bigint; max: bigint }
  /** An exact decimal; `precision` undefined = unlimited (PostgreSQL `numeric` without typmod). */
  | { kind: 'decimal'; precision?: number; scale: number }
  /** A binary float keeping `digits` significant decimal digits exactly (15 for double, 6 for real). */
  | { kind: 'float'; digits: number }
  /** A wall-clock timestamp (PostgreSQL `timestamp`, MySQL `DATETIME`). */
  | { kind: 'timestamp' }
  /** An instant (PostgreSQL `timestamptz`, MySQL `TIMESTAMP`). */
  | { kind: 'timestamptz' }
  /**
   * SQLite INTEGER or NUMERIC affinity: numeric text is converted, integers exactly within int64,
   * anything else to a REAL with 15 significant digits.
   */
  | { kind: 'sqlite-numeric' }
  /** SQLite REAL affinity: every number becomes a REAL. */
  | { kind: 'sqlite-real' }
  /** Nothing to check or convert (text, booleans, bytes, types the check does not describe). */
  | { kind: 'other' };

/** `kind: 'int'` for a signed integer of `bits`, or its unsigned variant. */
export function intKind(bits: 8 | 16 | 24 | 32 | 64, unsigned = false): ColumnKind {
  return unsigned ? { kind: 'int', min: 0n, max: 2n ** BigInt(bits) - 1n } : { kind: 'int', min: -(2n ** BigInt(bits - 1)), max: 2n ** BigInt(bits - 1) - 1n };
}

/** A value refused by a column's preparer; the caller adds row and column. */
class Refused extends Error {}

/** Converts one non-NULL value for its column, or throws {@link Refused}. */
type Preparer = (v: Value) => Value;

/** A number as exact digits: sign, digits without leading zeros, power of ten (value = ±digits × 10^exp). */
interface Digits {
  negative: boolean;
  /** Significant digits without leading or trailing zeros; '' for zero. */
  digits: string;
  exp: number;
}

const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** Decimal, bigint or number as exact digits; undefined for anything else (strings, NaN). */
function digitsOf(v: Value): Digits | undefined {
  let text: string;
  if (v instanceof Decimal) text = v.text;
  else if (typeof v === 'bigint') text = String(v);
  else if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    text = plainNumberText(v);
  } else return undefined;
  const m = NUMBER_RE.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const all = (m[2] ?? '') + (m[3] ?? '');
  let exp = -(m[3] ?? '').length;
  let end = all.length;
  while (end > 0 && all.charCodeAt(end - 1) === 48) {
    end--;
    exp++;
  }
  let start = 0;
  while (start < end && all.charCodeAt(start) === 48) start++;
  const digits = all.slice(start, end);
  return { negative: m[1] === '-' && digits !== '', digits, exp: digits === '' ? 0 : exp };
}

/** The integer a Digits denotes, or undefined when it has a fraction. */
function integerOf(d: Digits): bigint | undefined {
  if (d.exp < 0) return undefined;
  const n = d.digits === '' ? 0n : BigInt(d.digits + '0'.repeat(d.exp));
  return d.negative ? -n : n;
}

/** Number text for messages: the value as written when it is a Decimal. */
function shown(v: Value): string {
  const s = v instanceof Decimal ? v.text : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function intPreparer(min: bigint, max: bigint, what: string): Preparer {
  return (v) => {
    const d = digitsOf(v);
    if (!d) return v; // text, booleans: the database decides (and its error is mapped)
    const n = integerOf(d);
    if (n === undefined) throw new Refused(`${shown(v)} is not an integer; ${what} holds integers only`);
    if (n < min || n > max) throw new Refused(`${shown(v)} is out of range for ${what} (${min} to ${max})`);
    return n;
  };
}

function decimalPreparer(precision: number | undefined, scale: number, what: string): Preparer {
  return (v) => {
    const d = digitsOf(v);
    if (!d || d.digits === '') return v;
    // value = digits × 10^exp must be k × 10^-scale with k an integer of at most `precision` digits.
    if (d.exp + scale < 0) throw new Refused(`${shown(v)} has more fraction digits than ${what} keeps (${scale}); it would be rounded`);
    if (precision !== undefined && d.digits.length + d.exp + scale > precision) {
      throw new Refused(`${shown(v)} has too many digits for ${what}`);
    }
    return v;
  };
}

/** Decimal text into a binary float: exact (reads back as written) up to `digits` significant digits. */
function floatPreparer(digits: number, what: string): Preparer {
  return (v) => {
    if (typeof v === 'number' && digits >= 15) return v; // already a double
    const d = digitsOf(v);
    if (!d) return v;
    if (d.digits.length > digits) throw new Refused(`${shown(v)} has more significant digits than ${what} keeps exactly (${digits})`);
    return v;
  };
}

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/** SQLite numeric affinities (see {@link ColumnKind}). */
function sqlitePreparer(real: boolean, what: string): Preparer {
  return (v) => {
    const d = digitsOf(v);
    if (!d) return v;
    if (!real) {
      const n = integerOf(d);
      if (n !== undefined) {
        if (n < INT64.min || n > INT64.max) throw new Refused(`${shown(v)} is beyond the 64-bit integers of ${what}; SQLite would store it as a rounded REAL`);
        return v;
      }
    } else if (typeof v === 'number') return v;
    // Stored as a REAL: exact for up to 15 significant digits (and integers up to 2^53).
    const n = integerOf(d);
    if (d.digits.length <= 15 || (n !== undefined && n >= -(2n ** 53n) && n <= 2n ** 53n)) return v;
    throw new Refused(`${shown(v)} has more than 15 significant digits; ${what} would store it as a rounded REAL`);
  };
}

/** Dates and times of year 0000 (and Instants whose wall time falls there): no target and no reader has them. */
function yearZero(v: Value): boolean {
  if (v instanceof LocalDate || v instanceof WallTime) return v.text.startsWith('0000');
  return false;
}

/**
 * The preparers of a load, one per target column. `zone` is the config
 * zone: instants into wall-clock columns become its wall time there.
 */
export function columnPreparers(kinds: readonly ColumnKind[], names: readonly string[], dialect: Dialect, zone: string): Preparer[] {
  let clock: WallClock | undefined;
  const wallOf = (i: Instant): WallTime => new WallTime((clock ??= new WallClock(zone)).wall(i).replace(' ', 'T'));
  return kinds.map((k, i) => {
    const what = `column ${names[i]}`;
    let typed: Preparer | null = null;
    switch (k.kind) {
      case 'int':
        typed = intPreparer(k.min, k.max, what);
        break;
      case 'decimal':
        typed = decimalPreparer(k.precision, k.scale, what);
        break;
      case 'float':
        typed = floatPreparer(k.digits, what);
        break;
      case 'timestamp':
        typed = (v) => (v instanceof Instant ? wallOf(v) : v);
        break;
      case 'sqlite-numeric':
      case 'sqlite-real':
        typed = sqlitePreparer(k.kind === 'sqlite-real', what);
        break;
      default:
        break;
    }
    const noNul = dialect === 'pg';
    return (v: Value): Value => {
      if (typeof v === 'string') {
        if (noNul && v.includes('\0')) throw new Refused(`holds a NUL character, which PostgreSQL text cannot store`);
      } else if (yearZero(v)) {
        throw new Refused(`${String(v)} is in year 0000, which the database cannot store`);
      }
      const out = typed ? typed(v) : v;
      if (out instanceof WallTime && yearZero(out)) throw new Refused(`${String(v)} is in year 0000 in the config zone, which the database cannot store`);
      return out;
    };
  });
}

/**
 * The rows of a load with every value prepared for its column. A refused value stops the load
 * with a {@link RejectedRowError} naming the row (1-based, as the load counts) and the column.
 * Rows are copied only when a value changes, so the caller's arrays are never modified.
 */
export async function* preparedRows(rows: AsyncIterable<Value[]>, preparers: readonly Preparer[], names: readonly string[]): AsyncGenerator<Value[]> {
  let n = 0;
  for await (const row of rows) {
    n++;
    let out = row;
    const width = Math.min(row.length, preparers.length);
    for (let i = 0; i < width; i++) {
      const v = row[i]!;
      if (v === null) continue;
      let w: Value;
      try {
        w = preparers[i]!(v);
      } catch (e) {
        if (e instanceof Refused) throw new RejectedRowError(n, names[i], e.message);
        throw e;
      }
      if (w !== v) {
        if (out === row) out = row.slice();
        out[i] = w;
      }
    }
    yield out;
  }
}
