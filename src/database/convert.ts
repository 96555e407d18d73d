/**
 * Helpers shared by the adapters to turn driver text into the typed values of `src/values.ts`.
 *
 * Everything works on text and integers: going through JS `Date` would round microseconds to
 * milliseconds and drag in the process time zone, which is exactly the drift the values avoid.
 */
import { DateTime, IANAZone } from 'luxon';
import { ConfigError, DatabaseError } from '../errors.js';
import { Instant, LocalDate, WallTime } from '../values.js';
import type { SourceColumn, SourceType, Value } from '../values.js';

/**
 * A driver value that has no representation as a {@link Value} (`infinity`, BC or zero dates).
 * Type parsers run inside the driver's protocol handler where throwing would break the
 * connection, so they return this marker and the row loop raises the error with the column name.
 */
export class BadValue {
  constructor(
    readonly text: string,
    readonly reason: string,
  ) {}
}

/** Throw a DatabaseError naming the column when a converted cell is a {@link BadValue}. */
export function checkCell(v: unknown, db: string, column: string): void {
  if (v instanceof BadValue) {
    throw new DatabaseError(`database "${db}": column "${column}" holds ${JSON.stringify(v.text)}: ${v.reason}`);
  }
}

/** Drop trailing zeros of a fraction so `.500` and `.5` are the same value on every database. */
export function trimFraction(fraction: string | undefined): string {
  return fraction ? fraction.replace(/0+$/, '') : '';
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const WALL_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const INSTANT_RE =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)$/i;

/** Field ranges, compared as two-digit strings (the regexes guarantee two digits): no number parsing per cell. */
function inRange(mo: string, d: string, h = '00', mi = '00', s = '00'): boolean {
  return mo >= '01' && mo <= '12' && d >= '01' && d <= '31' && h <= '23' && mi <= '59' && s <= '59';
}

/** `yyyy-MM-dd` text as a LocalDate; anything else (other years, BC, infinity) → BadValue. */
export function parseDate(text: string): LocalDate | BadValue {
  const m = DATE_RE.exec(text);
  if (!m || !inRange(m[2]!, m[3]!) || m[1] === '0000') return new BadValue(text, 'not a date in years 0001-9999');
  return new LocalDate(text);
}

/** `yyyy-MM-dd[ T]HH:mm:ss[.f]` as a WallTime with `T` and trailing fraction zeros removed. */
export function parseWallTime(text: string): WallTime | BadValue {
  return parsePlainWallTime(text) ?? regexWallTime(text);
}

/** The reference implementation of {@link parseWallTime}; the fast parser must agree with it. */
function regexWallTime(text: string): WallTime | BadValue {
  const m = WALL_RE.exec(text);
  if (!m || !inRange(m[2]!, m[3]!, m[4], m[5], m[6]) || m[1] === '0000') {
    return new BadValue(text, 'not a timestamp in years 0001-9999');
  }
  const f = trimFraction(m[7]);
  return new WallTime(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${f ? '.' + f : ''}`);
}

/** Value of the decimal digit at `i`, or -1 when it is not an ASCII digit (what `\d` matches). */
function digitAt(text: string, i: number): number {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** The two-digit number at `i`, or -1. */
function twoDigits(text: string, i: number): number {
  const a = digitAt(text, i);
  const b = digitAt(text, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function isLeapYear(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * {@link parseWallTime} without regexes or substrings, for the one shape databases print
 * (`yyyy-MM-dd HH:mm:ss[.f]`): every timestamp cell of a large export comes through here. It
 * also hands the parsed fields to the WallTime so the encoder need not parse the text again.
 * Returns undefined for anything it does not fully check (then the regex version decides), so it
 * can only ever accept what WALL_RE with the same range checks accepts. A result other than
 * undefined also means the text has no UTC offset (parseInstant would return undefined).
 */
export function parsePlainWallTime(text: string): WallTime | BadValue | undefined {
  const len = text.length;
  if (len < 19 || len === 20 || len > 29) return undefined;
  const sep = text.charCodeAt(10);
  if (
    text.charCodeAt(4) !== 45 /* - */ ||
    text.charCodeAt(7) !== 45 ||
    (sep !== 32 /* space */ && sep !== 84) /* T */ ||
    text.charCodeAt(13) !== 58 /* : */ ||
    text.charCodeAt(16) !== 58
  ) {
    return undefined;
  }
  const yHi = twoDigits(text, 0);
  const yLo = twoDigits(text, 2);
  const mo = twoDigits(text, 5);
  const d = twoDigits(text, 8);
  const h = twoDigits(text, 11);
  const mi = twoDigits(text, 14);
  const sec = twoDigits(text, 17);
  if (yHi < 0 || yLo < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return undefined;
  // Fraction: '.' then 1-9 digits up to the end; `end` is after the last non-zero digit.
  let end = 19;
  if (len > 19) {
    if (text.charCodeAt(19) !== 46 /* . */) return undefined;
    for (let i = 20; i < len; i++) {
      const c = digitAt(text, i);
      if (c < 0) return undefined;
      if (c !== 0) end = i + 1;
    }
  }
  const y = yHi * 100 + yLo;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 || y === 0) {
    return new BadValue(text, 'not a timestamp in years 0001-9999');
  }
  // Same text as the regex version builds: 'T', fraction without trailing zeros ('' drops the '.').
  const canonical = sep === 84 && end === len ? text : `${text.slice(0, 10)}T${text.slice(11, end)}`;
  const fraction = end > 19 ? text.slice(20, end) : '';
  // A day past the month's end (Feb 30) passes the range check above like it does in the regex
  // version, but it is no real time: leave it unparsed so the encoder reports it as before.
  if (d > (mo === 2 && isLeapYear(y) ? 29 : MONTH_DAYS[mo]!)) return new WallTime(canonical);
  return new WallTime(canonical, daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec, fraction);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Text with a UTC offset (`2024-03-10 23:59:59.5+09`, `…T…Z`, `+05:30`, `+0530`, LMT offsets
 * with seconds) as an Instant, keeping the fraction digits exactly. Returns undefined when the
 * text has no offset, BadValue when it looks like a timestamp but is out of range.
 */
export function parseInstant(text: string): Instant | BadValue | undefined {
  const m = INSTANT_RE.exec(text);
  if (!m) return undefined;
  if (!inRange(m[2]!, m[3]!, m[4], m[5], m[6]) || m[1] === '0000') {
    return new BadValue(text, 'not a timestamp in years 0001-9999');
  }
  const days = daysFromCivil(+m[1]!, +m[2]!, +m[3]!);
  let seconds = days * 86400 + +m[4]! * 3600 + +m[5]! * 60 + +m[6]!;
  if (!m[8]) {
    const offset = +m[10]! * 3600 + +(m[11] ?? 0) * 60 + +(m[12] ?? 0);
    seconds -= m[9] === '-' ? -offset : offset;
  }
  return new Instant(seconds, trimFraction(m[7]));
}

/**
 * A JS number as plain decimal text (no exponent), for SQLite values of DECIMAL columns that
 * SQLite stored as REAL: `String(1e-7)` would give `1e-7`, which no format wants to write.
 */
export function plainNumberText(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = m[2]! + (m[3] ?? '');
  const exp = +m[4]!;
  const point = 1 + exp; // position of the decimal point within `digits`
  if (point <= 0) return `${m[1]}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return m[1] + digits + '0'.repeat(point - digits.length);
  return `${m[1]}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Buffer (or any byte view) as a plain Uint8Array copy, so values compare equal across drivers. */
export function toBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/**
 * Check an IANA zone name before it goes into `SET TIME ZONE '…'`. The character check keeps
 * it a safe SQL literal; luxon (Node's ICU) checks that the zone exists.
 */
export function checkZone(zone: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone) || !IANAZone.isValidZone(zone)) {
    throw new ConfigError([`timezone: unknown time zone ${JSON.stringify(zone)}`]);
  }
  return zone;
}

/** The zone's UTC offset now as `±HH:MM` (MySQL's fallback when it has no zone tables). */
export function currentOffset(zone: string): string {
  return DateTime.now().setZone(zone).toFormat('ZZ');
}

export interface CheckedRowsOptions {
  /** The first result, already read (its arrival told us the columns). */
  first: IteratorResult<Value[]>;
  it: AsyncIterator<Value[]>;
  columns: SourceColumn[];
  /** Column types whose cells may hold a BadValue that must stop the export. */
  checkedTypes: ReadonlySet<SourceType>;
  db: string;
  fail: (what: string, e: unknown) => Error;
  /** Called when the rows were not all read (break or error): stop the query on the server. */
  abort: () => Promise<void> | void;
  /** End the session: commit/rollback and release the connection (`ok` = read to the end). */
  finish: (ok: boolean) => Promise<void>;
}

/**
 * The rows of a streaming query, checking the cells that conversion may have marked bad, and
 * always ending the session: on break or error the query is stopped first.
 */
export async function* checkedRows(o: CheckedRowsOptions): AsyncGenerator<Value[]> {
  const checked = o.columns.flatMap((c, i) => (o.checkedTypes.has(c.type) ? [i] : []));
  let ok = false;
  try {
    let r = o.first;
    while (!r.done) {
      const row = r.value;
      for (const i of checked) checkCell(row[i], o.db, o.columns[i]!.name);
      yield row;
      r = await o.it.next();
    }
    ok = true;
  } catch (e) {
    throw o.fail('reading rows failed', e);
  } finally {
    if (!ok) await o.abort();
    await o.finish(ok);
  }
}
