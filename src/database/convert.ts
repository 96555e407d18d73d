/**
 * Helpers shared by the adapters to turn driver text into the typed values of `src/values.ts`.
 *
 * Everything works on text and integers: going through JS `Date` would round microseconds to
 * milliseconds and drag in the process time zone, which is exactly the drift the values avoid.
 */
import { DateTime, IANAZone } from 'luxon';
import { ConfigError, DatabaseError } from '../errors.js';
import { Instant, LocalDate, WallTime } from '../values.js';

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
  const m = WALL_RE.exec(text);
  if (!m || !inRange(m[2]!, m[3]!, m[4], m[5], m[6]) || m[1] === '0000') {
    return new BadValue(text, 'not a timestamp in years 0001-9999');
  }
  const f = trimFraction(m[7]);
  return new WallTime(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${f ? '.' + f : ''}`);
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
