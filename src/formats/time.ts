/**
 * Time zone arithmetic for writing timestamps: offsets, wall time → instant, and the canonical
 * `yyyy-MM-ddTHH:mm:ss[.fraction]±HH:MM` text.
 *
 * luxon supplies the zone rules (through `Zone.offset`, which reads Node's ICU data), but the
 * rendering is done here with integer arithmetic: building a luxon DateTime per value costs
 * microseconds, and a million-row export writes millions of timestamps. Offsets are cached per
 * UTC hour so ICU is asked once per hour of data, not once per value.
 */
import { DateTime, Info, type Zone } from 'luxon';
import { ConfigError } from '../errors.js';

const SECONDS_PER_DAY = 86400;

/** '00'…'99', so two-digit fields are one array read instead of a padStart call. */
const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

/**
 * luxon options for `toFormat`: a fixed locale so month and weekday names ('MMM', 'EEE') do not
 * depend on the machine that runs the export.
 */
const FORMAT_LOCALE = { locale: 'en-US', numberingSystem: 'latn' } as const;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1–12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** `yyyy-MM-dd` of a day number (days since 1970-01-01). */
export function civilText(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${yearText(year)}-${PAD2[month]}-${PAD2[day]}`;
}

/** Four-digit year; years outside 0–9999 keep their digits and sign (ISO 8601 expanded form). */
function yearText(year: number): string {
  if (year >= 0 && year <= 9999) return String(year).padStart(4, '0');
  return year < 0 ? `-${String(-year).padStart(4, '0')}` : `+${year}`;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Whether the fields name a real calendar date and clock time. */
function validFields(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): boolean {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h <= 23 && mi <= 59 && s <= 59;
}

/** Remove trailing zeros of a fraction: '500' → '5', '000' → ''. */
export function trimFraction(fraction: string): string {
  let end = fraction.length;
  while (end > 0 && fraction.charCodeAt(end - 1) === 48 /* '0' */) end--;
  return end === fraction.length ? fraction : fraction.slice(0, end);
}

/**
 * A timestamp read from text: the wall-clock fields as seconds on a UTC-like scale, the fraction
 * digits, and the offset in seconds when the text had one (then it names an instant).
 */
export interface ParsedTimestamp {
  /** Wall time as if it were UTC: days·86400 + seconds of the day. */
  localSeconds: number;
  /** Fraction digits without trailing zeros ('' when whole). */
  fraction: string;
  /** Offset east of UTC in seconds when the text carried one, else null (a wall time). */
  offsetSeconds: number | null;
}

/**
 * `yyyy-MM-dd HH:mm[:ss[.f]]` or with `T`, optionally followed by `Z`, `±HH:MM`, `±HHMM` or `±HH`
 * (an optional space before the offset, as PostgreSQL prints `timestamptz` with one).
 */
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?: ?([Zz]|[+-]\d{2}(?::?\d{2})?))?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parse timestamp text (see {@link TIMESTAMP_RE}); null when it is not one or names no real time. */
export function parseTimestampText(text: string): ParsedTimestamp | null {
  const m = TIMESTAMP_RE.exec(text);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (!validFields(y, mo, d, h, mi, s)) return null;
  let offsetSeconds: number | null = null;
  const off = m[8];
  if (off !== undefined) {
    if (off === 'Z' || off === 'z') offsetSeconds = 0;
    else {
      const oh = Number(off.slice(1, 3));
      const om = off.length > 3 ? Number(off.slice(off.length - 2)) : 0;
      if (oh > 15 || om > 59) return null;
      offsetSeconds = (off[0] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
    }
  }
  return {
    localSeconds: daysFromCivil(y, mo, d) * SECONDS_PER_DAY + h * 3600 + mi * 60 + s,
    fraction: trimFraction(m[7] ?? ''),
    offsetSeconds,
  };
}

/** Day number of `yyyy-MM-dd` text, or null when it is not a real date. */
export function parseDateText(text: string): number | null {
  const m = DATE_RE.exec(text);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  return validFields(y, mo, d) ? daysFromCivil(y, mo, d) : null;
}

/** The offset text `±HH:MM` (with `:SS` only for historical local-mean-time offsets). */
function offsetText(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  return `${sign}${PAD2[h] ?? String(h)}:${PAD2[m]}${s ? `:${PAD2[s]}` : ''}`;
}

/** Thrown when a timestamp falls outside what the zone rules (or luxon) can represent. */
export class TimeRangeError extends RangeError {}

/**
 * One configured IANA zone, resolved once per encoder. Everything that turns a timestamp into
 * text goes through here so the system zone is never consulted.
 */
export class ZoneClock {
  readonly zone: Zone;
  /** UTC hour → offset in seconds valid for the whole hour, or NaN when a transition falls inside. */
  private readonly hourOffsets = new Map<number, number>();
  private readonly offsetTexts = new Map<number, string>();
  private lastDays = Number.NaN;
  private lastDayText = '';
  /** The last UTC hour asked for whose offset is uniform, and that offset: rows come in time order. */
  private lastHour = Number.NaN;
  private lastHourOffset = 0;
  /**
   * A wall-clock hour (local seconds / 3600) in which every wall time resolves with one offset
   * (no transition near it), with that offset and its text; see {@link formatWall}.
   */
  private wallHour = Number.NaN;
  private wallHourOffsetText = '';

  /** @throws ConfigError when `timezone` is not a zone luxon (ICU) knows. */
  constructor(readonly timezone: string) {
    // 'local'/'system' would silently follow the machine's zone, the very thing to avoid.
    const lower = typeof timezone === 'string' ? timezone.toLowerCase() : '';
    const zone = lower && lower !== 'local' && lower !== 'system' ? Info.normalizeZone(timezone) : null;
    if (!zone || !zone.isValid) {
      throw new ConfigError([`timezone: '${String(timezone)}' is not a known IANA time zone (e.g. 'Asia/Seoul', 'UTC')`]);
    }
    this.zone = zone;
  }

  /** The zone's offset from UTC in whole seconds at an instant. */
  private exactOffset(epochSeconds: number): number {
    const minutes = this.zone.offset(epochSeconds * 1000);
    if (!Number.isFinite(minutes)) throw new TimeRangeError(`time ${epochSeconds} is out of range`);
    // ICU reports local-mean-time offsets with seconds (e.g. -4:56:02); keep them whole seconds.
    return Math.round(minutes * 60);
  }

  /** The offset of a whole UTC hour (epoch seconds / 3600), or NaN when it changes inside the hour. */
  private hourOffset(hour: number): number {
    if (hour === this.lastHour) return this.lastHourOffset;
    let cached = this.hourOffsets.get(hour);
    if (cached === undefined) {
      // Zones change offset at most once within an hour, so equal ends mean one offset throughout.
      const start = this.exactOffset(hour * 3600);
      cached = start === this.exactOffset(hour * 3600 + 3599) ? start : Number.NaN;
      if (this.hourOffsets.size >= 100_000) this.hourOffsets.clear();
      this.hourOffsets.set(hour, cached);
    }
    if (!Number.isNaN(cached)) {
      this.lastHour = hour;
      this.lastHourOffset = cached;
    }
    return cached;
  }

  /** Offset in seconds at an instant, from the per-hour cache when no transition is near. */
  offsetAt(epochSeconds: number): number {
    const cached = this.hourOffset(Math.floor(epochSeconds / 3600));
    return Number.isNaN(cached) ? this.exactOffset(epochSeconds) : cached;
  }

  /**
   * The instant (epoch seconds) of a wall time in this zone, resolving DST like PostgreSQL does
   * so the database fast path and this encoder agree: a time skipped by a spring-forward gap is
   * read with the offset before the transition (02:30 becomes 03:30 daylight time), and a time
   * that occurs twice at a fall-back is read as the later one (standard time). luxon's own
   * resolution depends on the current date and is documented as undefined, so it is not used.
   */
  wallToEpoch(localSeconds: number): number {
    // Offsets a day before and after bracket any single transition near this wall time.
    const before = this.offsetAt(localSeconds - SECONDS_PER_DAY);
    const after = this.offsetAt(localSeconds + SECONDS_PER_DAY);
    const late = localSeconds - after;
    if (this.offsetAt(late) === after) return late;
    const early = localSeconds - before;
    if (this.offsetAt(early) === before) return early;
    return early;
  }

  /**
   * Canonical text of a wall time read in this zone: exactly
   * `formatInstant(wallToEpoch(localSeconds), fraction)`, but without resolving the wall time
   * again for every value. When a whole wall-clock hour resolves with one offset, every wall time
   * in it is that offset's instant and prints as its own fields plus the offset, so the hour's
   * offset is remembered; near a transition each value goes the long way.
   */
  formatWall(localSeconds: number, fraction: string): string {
    const hour = Math.floor(localSeconds / 3600);
    if (hour !== this.wallHour && !this.rememberWallHour(hour)) {
      return this.formatInstant(this.wallToEpoch(localSeconds), fraction);
    }
    return this.localText(localSeconds, this.wallHourOffsetText, fraction);
  }

  /**
   * Whether every wall time of `hour` resolves to `local - after` in {@link wallToEpoch} with the
   * same `after` and formats back to the same fields; if so, remember it. That holds when the UTC
   * hour a day later (where `after` is read) has one offset, and every UTC hour the instants
   * `local - after` fall into has that same offset (then the `late` choice always stands).
   */
  private rememberWallHour(hour: number): boolean {
    const start = hour * 3600;
    // wallToEpoch also reads the offset a day earlier: read it too, so a time out of the zone
    // rules' range fails here exactly as it fails there.
    this.hourOffset(hour - 24);
    const after = this.hourOffset(hour + 24);
    if (Number.isNaN(after)) return false;
    const last = Math.floor((start + 3599 - after) / 3600);
    for (let h = Math.floor((start - after) / 3600); h <= last; h++) {
      if (this.hourOffset(h) !== after) return false;
    }
    this.wallHour = hour;
    this.wallHourOffsetText = this.offsetTextOf(after);
    return true;
  }

  private offsetTextOf(offset: number): string {
    let off = this.offsetTexts.get(offset);
    if (off === undefined) {
      off = offsetText(offset);
      this.offsetTexts.set(offset, off);
    }
    return off;
  }

  /** `yyyy-MM-ddTHH:mm:ss[.fraction]` of local seconds, followed by the offset text. */
  private localText(local: number, off: string, fraction: string): string {
    const days = Math.floor(local / SECONDS_PER_DAY);
    const sod = local - days * SECONDS_PER_DAY;
    const h = Math.floor(sod / 3600);
    const rest = sod - h * 3600;
    const mi = Math.floor(rest / 60);
    const time = `${PAD2[h]}:${PAD2[mi]}:${PAD2[rest - mi * 60]}`;
    return fraction ? `${this.dayText(days)}T${time}.${fraction}${off}` : `${this.dayText(days)}T${time}${off}`;
  }

  /** `yyyy-MM-dd` of a day number, remembering the last one (rows tend to share a day). */
  dayText(days: number): string {
    if (days !== this.lastDays) {
      this.lastDays = days;
      this.lastDayText = civilText(days);
    }
    return this.lastDayText;
  }

  /** Canonical text of an instant: local date and time in this zone, fraction, `±HH:MM`. */
  formatInstant(epochSeconds: number, fraction: string): string {
    const offset = this.offsetAt(epochSeconds);
    return this.localText(epochSeconds + offset, this.offsetTextOf(offset), fraction);
  }

  /** The local calendar day (days since 1970-01-01) of an instant in this zone. */
  localDays(epochSeconds: number): number {
    return Math.floor((epochSeconds + this.offsetAt(epochSeconds)) / SECONDS_PER_DAY);
  }

  /** A luxon DateTime of an instant in this zone, for per-column `format` strings. */
  dateTime(epochSeconds: number, fraction: string): DateTime {
    const ms = fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;
    const dt = DateTime.fromMillis(epochSeconds * 1000 + ms, { zone: this.zone, ...FORMAT_LOCALE });
    if (!dt.isValid) throw new TimeRangeError(`time ${epochSeconds} is out of range`);
    return dt;
  }

  /** A luxon DateTime at midnight of a calendar day in this zone, for date `format` strings. */
  dateOnly(days: number): DateTime {
    return this.dateTime(this.wallToEpoch(days * SECONDS_PER_DAY), '');
  }
}
