/**
 * Field text → typed values for received files, one converter per column compiled once.
 *
 * These are the inverses of the writers' renderers (render.ts): the canonical text ferry writes
 * for every type is accepted, and parsed with the same helpers (time.ts, decimal.ts), so an export
 * read back by an import gives the same values. ISO dates and timestamps go through a regex and
 * integer arithmetic, not luxon: a million-row file holds millions of them. luxon is used only for
 * a column's own `format`, with its parser built once per column.
 */
import { DateTime } from 'luxon';
import type { ColumnType } from '../types.js';
import { Decimal, Instant, LocalDate, WallTime, type Value } from '../values.js';
import { isIntegerText, isNumericText } from './decimal.js';
import { describeValue, ValueProblem } from './render.js';
import { civilText, parseDateText, parseTimestampText, trimFraction, type ZoneClock } from './time.js';
import type { ImportColumn } from './types.js';

/** Converts the text of one non-NULL field; throws {@link ValueProblem} naming the value. */
export type FieldConverter = (text: string) => Value;

/** Plain decimal: optional sign, digits, optional fraction; no exponent (see {@link makeConverter}). */
const DECIMAL_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * Accepted boolean spellings, compared case-insensitively: what ferry writes ('true'/'false'),
 * the PostgreSQL short forms ('t'/'f'), 0/1 from MySQL and SQLite, and Y/N, yes/no, common in
 * partner files.
 */
const BOOLEANS = new Map<string, boolean>([
  ['true', true],
  ['t', true],
  ['1', true],
  ['y', true],
  ['yes', true],
  ['false', false],
  ['f', false],
  ['0', false],
  ['n', false],
  ['no', false],
]);

const SECONDS_PER_DAY = 86400;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `yyyy-MM-ddTHH:mm:ss[.fraction]` of wall-clock seconds on a UTC-like scale. */
function wallText(localSeconds: number, fraction: string): string {
  const days = Math.floor(localSeconds / SECONDS_PER_DAY);
  const sod = localSeconds - days * SECONDS_PER_DAY;
  const h = Math.floor(sod / 3600);
  const mi = Math.floor((sod - h * 3600) / 60);
  const s = sod - h * 3600 - mi * 60;
  const time = `${pad2(h)}:${pad2(mi)}:${pad2(s)}`;
  return fraction ? `${civilText(days)}T${time}.${fraction}` : `${civilText(days)}T${time}`;
}

/** Whether a luxon format has an offset or zone token ('Z', 'ZZ', 'ZZZ', 'z') outside quoted literals. */
function formatHasOffset(format: string): boolean {
  let quoted = false;
  for (const ch of format) {
    if (ch === "'") quoted = !quoted;
    else if (!quoted && (ch === 'Z' || ch === 'z')) return true;
  }
  return false;
}

/** Whole seconds and fraction digits of a luxon DateTime's epoch milliseconds. */
function splitMillis(ms: number): { seconds: number; fraction: string } {
  const seconds = Math.floor(ms / 1000);
  const rest = ms - seconds * 1000;
  return { seconds, fraction: rest === 0 ? '' : trimFraction(String(rest).padStart(3, '0')) };
}

/** Remember the last text and its value: files tend to repeat dates, flags and codes row after row. */
function lastValueCached(convert: FieldConverter): FieldConverter {
  let lastText: string | undefined;
  let lastValue: Value = null;
  return (text) => {
    if (text === lastText) return lastValue;
    const v = convert(text);
    lastText = text;
    lastValue = v;
    return v;
  };
}

/**
 * luxon parse of `text` with a column format. The parser is built once; the locale is fixed so
 * month names ('MMM') do not depend on the machine.
 */
function formatParser(format: string): (text: string, zone: string, setZone: boolean) => DateTime | null {
  const parser = DateTime.buildFormatParser(format, { locale: 'en-US', numberingSystem: 'latn' });
  return (text, zone, setZone) => {
    const dt = DateTime.fromFormatParser(text, parser, { zone, setZone, locale: 'en-US', numberingSystem: 'latn' });
    return dt.isValid ? dt : null;
  };
}

/**
 * Compile the converter of one column. Types and the text each accepts:
 * - string: any text, as it is.
 * - int: optional sign and digits → Decimal with the text as written (no float on the way).
 * - decimal: optional sign, digits, optional fraction → Decimal as written. No exponent: '1.2E+15'
 *   in a csv money column is a spreadsheet's rounding, not a value (jsonl numbers with an exponent
 *   are expanded exactly by the jsonl reader before they get here).
 * - float: a decimal number, exponent allowed → finite JS number.
 * - bool: true/false, t/f, 1/0, y/n, yes/no, in any case.
 * - date: `yyyy-MM-dd` or the column's luxon `format` → LocalDate; the date must exist.
 * - timestamp: `yyyy-MM-dd[T ]HH:mm[:ss[.fraction]]` → WallTime; with `Z` or an offset → Instant.
 *   With a `format`: an offset token in it makes the value an Instant, else a WallTime.
 * - timestamptz: the same ISO form but an offset is required → Instant; with a `format` lacking
 *   an offset, the time is read in the configured zone (DST resolved as the writers do).
 */
export function makeConverter(column: ImportColumn, clock: ZoneClock): FieldConverter {
  const type: ColumnType = column.type;
  const fmt = column.format;
  switch (type) {
    case 'string':
      return (text) => text;
    case 'int':
      return (text) => {
        if (isIntegerText(text)) return new Decimal(text);
        throw new ValueProblem(`${describeValue(text)} is not an int`);
      };
    case 'decimal':
      return (text) => {
        if (DECIMAL_RE.test(text)) return new Decimal(text);
        if (isNumericText(text)) throw new ValueProblem(`${describeValue(text)} is not a decimal: write it without an exponent`);
        throw new ValueProblem(`${describeValue(text)} is not a decimal`);
      };
    case 'float':
      return (text) => {
        if (!isNumericText(text)) throw new ValueProblem(`${describeValue(text)} is not a number`);
        const n = Number(text);
        if (!Number.isFinite(n)) throw new ValueProblem(`${describeValue(text)} is too large for a float`);
        return n;
      };
    case 'bool':
      return (text) => {
        if (text === 'true') return true;
        if (text === 'false') return false;
        const b = text.length <= 5 ? BOOLEANS.get(text.toLowerCase()) : undefined;
        if (b === undefined) throw new ValueProblem(`${describeValue(text)} is not a boolean (use true/false, t/f, 1/0, y/n or yes/no)`);
        return b;
      };
    case 'date': {
      if (fmt === undefined) {
        return lastValueCached((text) => {
          if (parseDateText(text) !== null) return new LocalDate(text);
          throw new ValueProblem(`${describeValue(text)} is not a date (yyyy-MM-dd)`);
        });
      }
      const parse = formatParser(fmt);
      return lastValueCached((text) => {
        const dt = parse(text, 'UTC', false);
        if (dt) return new LocalDate(dt.toISODate()!);
        throw new ValueProblem(`${describeValue(text)} is not a date in the format '${fmt}'`);
      });
    }
    case 'timestamp':
    case 'timestamptz':
      return lastValueCached(timestampConverter(type, fmt, clock));
  }
  throw new ValueProblem(`unknown column type '${String(type)}'`);
}

function timestampConverter(type: 'timestamp' | 'timestamptz', fmt: string | undefined, clock: ZoneClock): FieldConverter {
  const tz = type === 'timestamptz';
  if (fmt === undefined) {
    const shape = tz ? 'yyyy-MM-ddTHH:mm:ss[.fraction]±HH:MM or Z' : 'yyyy-MM-dd HH:mm:ss[.fraction]';
    return (text) => {
      const p = parseTimestampText(text);
      if (!p) throw new ValueProblem(`${describeValue(text)} is not a timestamp (${shape})`);
      if (p.offsetSeconds !== null) return new Instant(p.localSeconds - p.offsetSeconds, p.fraction);
      if (tz) throw new ValueProblem(`${describeValue(text)} has no UTC offset; timestamptz needs one (e.g. +09:00 or Z)`);
      return new WallTime(wallText(p.localSeconds, p.fraction));
    };
  }
  const parse = formatParser(fmt);
  const bad = (text: string) => new ValueProblem(`${describeValue(text)} is not a timestamp in the format '${fmt}'`);
  if (formatHasOffset(fmt)) {
    // The text names its own offset: keep it (setZone) so the instant is exactly what it says.
    return (text) => {
      const dt = parse(text, 'UTC', true);
      if (!dt) throw bad(text);
      const { seconds, fraction } = splitMillis(dt.toMillis());
      return new Instant(seconds, fraction);
    };
  }
  // No offset in the text: read the fields as a wall time on a UTC scale (no DST gaps there), then
  // either keep it as a wall time or place it in the configured zone like the writers do.
  return (text) => {
    const dt = parse(text, 'UTC', false);
    if (!dt) throw bad(text);
    const { seconds, fraction } = splitMillis(dt.toMillis());
    if (!tz) return new WallTime(wallText(seconds, fraction));
    return new Instant(clock.wallToEpoch(seconds), fraction);
  };
}
