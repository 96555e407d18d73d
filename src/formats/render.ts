/**
 * Canonical text of cell values: the one place that decides how a Value is written, shared by
 * every format (csv, kv, jsonl) and mirrored byte for byte by the PostgreSQL COPY fast path.
 *
 * A renderer is compiled once per column (type, `format`, `decimals`, `bool` and the zone are
 * fixed), so the per-value work is a type switch and string building.
 */
import { Decimal, Instant, LocalDate, WallTime, type Value } from '../values.js';
import { isIntegerText, isNonFiniteText, isNumericText, roundDecimal } from './decimal.js';
import { parseDateText, parseTimestampText, trimFraction, TimeRangeError, type ZoneClock } from './time.js';
import type { ResolvedColumn } from './types.js';

/**
 * A value that does not fit its column. The message describes only the value ("'yesterday' is
 * not a timestamp"); the encoder adds file, row and column before it reaches the user.
 */
export class ValueProblem extends Error {}

/** Canonical text of one non-NULL value of a column (never called with `null`). */
export type TextRenderer = (value: Value) => string;

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Short, quoted description of a value for error messages (long values cut at ~40 chars). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'a missing value (the row is shorter than the column list)';
  if (typeof value === 'string') {
    const cut = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `'${cut}'`;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Instant) return `the instant ${value.epochSeconds}${value.fraction ? `.${value.fraction}` : ''}`;
  if (value instanceof Decimal || value instanceof LocalDate || value instanceof WallTime) {
    return describeValue(value.text);
  }
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value !== null && typeof value === 'object') return Object.prototype.toString.call(value);
  return String(value);
}

/** JS number as canonical text: `String(n)`, with `-0` as '0' and the PostgreSQL non-finite names. */
export function numberText(n: number): string {
  if (Number.isFinite(n)) return n === 0 ? '0' : String(n);
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

/** PostgreSQL's bytea hex text: `\x` and two lowercase digits per byte. */
export function bytesText(bytes: Uint8Array): string {
  let s = '\\x';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/**
 * Coercions to one declared type. Each returns the canonical text or throws a ValueProblem;
 * they are built per column because dates and timestamps need the zone (and maybe a format).
 */
interface Coercions {
  timestamp(value: Value): string;
  date(value: Value): string;
}

/** Boolean of a value in a 'bool' column: SQLite and MySQL store booleans as 0/1 integers. */
function toBool(value: Value): boolean {
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      if (value === 1 || value === 0) return value === 1;
      break;
    case 'bigint':
      if (value === 1n || value === 0n) return value === 1n;
      break;
    case 'string':
      switch (value.toLowerCase()) {
        case 'true':
        case 't':
        case '1':
          return true;
        case 'false':
        case 'f':
        case '0':
          return false;
      }
      break;
    default:
      if (value instanceof Decimal && (value.text === '1' || value.text === '0')) return value.text === '1';
  }
  throw new ValueProblem(`${describeValue(value)} is not a boolean`);
}

/**
 * Numeric text of a value for int/decimal/float columns and `decimals`, or null when the value
 * is not numeric. Text is kept exactly ('1.50' stays '1.50'); only numbers go through String().
 */
function numericText(value: Value, integer: boolean): string | null {
  switch (typeof value) {
    case 'number':
      if (integer && Number.isFinite(value) && !Number.isInteger(value)) return null;
      return numberText(value);
    case 'bigint':
      return value.toString();
    case 'string':
      if (integer ? isIntegerText(value) : isNumericText(value) || isNonFiniteText(value)) return value;
      return null;
    default:
      if (value instanceof Decimal) {
        // Adapters build Decimals from the database's own numeric text; an 'int' column still
        // rejects a fraction so a mistyped column is noticed rather than written silently.
        if (integer && !isIntegerText(value.text)) return null;
        return value.text;
      }
      return null;
  }
}

/** The zone-dependent coercions (date and timestamp) of one column. */
function makeCoercions(column: ResolvedColumn, clock: ZoneClock): Coercions {
  const fmt = column.format;

  /** Canonical (or `format`ted) text of an instant given as epoch seconds and fraction digits. */
  const instantText = (epochSeconds: number, fraction: string): string => {
    if (fmt !== undefined) return clock.dateTime(epochSeconds, fraction).toFormat(fmt);
    return clock.formatInstant(epochSeconds, fraction);
  };

  /** Text of a calendar day (days since 1970-01-01). */
  const dayText = (days: number): string => {
    if (fmt !== undefined) return clock.dateOnly(days).toFormat(fmt);
    return clock.dayText(days);
  };

  const timestamp = (value: Value): string => {
    try {
      if (value instanceof Instant) {
        if (!Number.isSafeInteger(value.epochSeconds)) throw new TimeRangeError('bad instant');
        const last = value.fraction.length - 1;
        // Instant.fraction comes without trailing zeros; trim anyway, it costs one char read.
        const fraction = last >= 0 && value.fraction.charCodeAt(last) === 48 ? trimFraction(value.fraction) : value.fraction;
        return instantText(value.epochSeconds, fraction);
      }
      let text: string | undefined;
      if (value instanceof WallTime) {
        // Adapters hand over the fields they already parsed; only text-only WallTimes are parsed here.
        const local = value.localSeconds;
        if (!Number.isNaN(local)) {
          return fmt === undefined ? clock.formatWall(local, value.fraction) : instantText(clock.wallToEpoch(local), value.fraction);
        }
        text = value.text;
      } else if (typeof value === 'string') text = value;
      else if (value instanceof LocalDate) {
        // A date in a timestamp column means its midnight in the zone.
        const days = parseDateText(value.text);
        if (days !== null) return instantText(clock.wallToEpoch(days * 86400), '');
      }
      if (text !== undefined) {
        const parsed = parseTimestampText(text);
        if (parsed) {
          if (parsed.offsetSeconds === null && fmt === undefined) return clock.formatWall(parsed.localSeconds, parsed.fraction);
          const epoch =
            parsed.offsetSeconds === null ? clock.wallToEpoch(parsed.localSeconds) : parsed.localSeconds - parsed.offsetSeconds;
          return instantText(epoch, parsed.fraction);
        }
      }
    } catch (e) {
      if (!(e instanceof TimeRangeError)) throw e;
      throw new ValueProblem(`${describeValue(value)} is out of the range of dates this zone can write`);
    }
    throw new ValueProblem(`${describeValue(value)} is not a timestamp`);
  };

  const date = (value: Value): string => {
    try {
      if (value instanceof LocalDate) {
        if (fmt === undefined) return value.text;
        const days = parseDateText(value.text);
        if (days !== null) return dayText(days);
      } else if (value instanceof Instant) {
        if (Number.isSafeInteger(value.epochSeconds)) return dayText(clock.localDays(value.epochSeconds));
      } else if (value instanceof WallTime || typeof value === 'string') {
        const text = typeof value === 'string' ? value : value.text;
        // The date part as written, like PostgreSQL's `::date` on text: a time or offset after it
        // is checked for shape but does not move the day.
        const datePart = text.length > 10 ? text.slice(0, 10) : text;
        const days = parseDateText(datePart);
        if (days !== null && (text.length === 10 || parseTimestampText(text) !== null)) {
          return fmt === undefined ? datePart : dayText(days);
        }
      }
    } catch (e) {
      if (!(e instanceof TimeRangeError)) throw e;
      throw new ValueProblem(`${describeValue(value)} is out of the range of dates this zone can write`);
    }
    throw new ValueProblem(`${describeValue(value)} is not a date`);
  };

  return { timestamp, date };
}

const PLAIN_TYPES = new Set(['int', 'decimal', 'float', 'bool', 'date', 'timestamp', 'timestamptz']);

/**
 * Whether a column's text always comes from the fixed alphabet of numbers, dates, timestamps and
 * booleans (digits, '-', '+', ':', '.', 'T', 'e', 'E', 'NaN', 'Infinity', 'true', 'false') and is
 * never empty. Encoders use this to skip quoting checks. Decimal and LocalDate text is trusted as
 * the adapters build it from the database's own output; strings in such columns are validated.
 */
export function hasPlainOutput(column: ResolvedColumn): boolean {
  return PLAIN_TYPES.has(column.type) && column.format === undefined && column.bool === undefined;
}

/**
 * Compile the canonical-text renderer of one column: declared-type coercion, then `decimals`,
 * `format` or `bool`. The result throws {@link ValueProblem} for values that do not fit.
 */
export function makeRenderer(column: ResolvedColumn, clock: ZoneClock): TextRenderer {
  const { timestamp, date } = makeCoercions(column, clock);
  const [trueText, falseText] = column.bool ?? ['true', 'false'];
  const places = column.decimals;

  /** Any value by its own kind: used for string/unknown/json/bytes columns. */
  const byKind = (value: Value): string => {
    switch (typeof value) {
      case 'string':
        return value;
      case 'number':
        return numberText(value);
      case 'bigint':
        return value.toString();
      case 'boolean':
        return value ? trueText : falseText;
    }
    if (value instanceof Decimal) return value.text;
    if (value instanceof Instant || value instanceof WallTime) return timestamp(value);
    if (value instanceof LocalDate) return date(value);
    if (value instanceof Uint8Array) return bytesText(value);
    throw new ValueProblem(`${describeValue(value)} is not a value ferry can write`);
  };

  const numeric = (integer: boolean, typeName: string): TextRenderer => {
    const round = places;
    return (value) => {
      const text = numericText(value, integer);
      if (text === null) throw new ValueProblem(`${describeValue(value)} is not ${typeName}`);
      if (round === undefined) return text;
      try {
        // roundDecimal expands exponents itself, so String(1e-7) = '1e-7' rounds exactly.
        return roundDecimal(text, round);
      } catch {
        throw new ValueProblem(`${describeValue(value)} cannot be rounded to ${round} decimals`);
      }
    };
  };

  switch (column.type) {
    case 'date':
      return date;
    case 'timestamp':
    case 'timestamptz':
      return timestamp;
    case 'bool':
      return (value) => (toBool(value) ? trueText : falseText);
    case 'int':
      return numeric(true, 'an int');
    case 'decimal':
    case 'float':
      return numeric(false, 'a number');
    case 'string':
      // The common case first: a string in a string column is written as it is.
      if (places === undefined) return (value) => (typeof value === 'string' ? value : byKind(value));
      break;
  }
  if (places !== undefined) {
    // `decimals` on an untyped column (e.g. SQLite): numbers get rounded, anything else is an error.
    return numeric(false, 'a number');
  }
  return byKind;
}
