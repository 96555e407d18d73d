/**
 * Business dates and the business day window, always computed in the config time zone with
 * luxon (never the system zone, never hour arithmetic: a day may have 23 or 25 hours).
 */
import { DateTime, IANAZone } from 'luxon';
import { UsageError } from '../errors.js';
import type { BusinessDateRule } from '../types.js';

export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isValidZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** The business date (start of that day in `zone`) a run at `now` produces. */
export function businessDateFor(rule: BusinessDateRule | undefined, now: DateTime, zone: string): DateTime {
  const local = now.setZone(zone);
  const r = rule ?? 'yesterday';
  if (r === 'today') return local.startOf('day');
  if (r === 'yesterday') return local.startOf('day').minus({ days: 1 });
  const out = r(local);
  if (!DateTime.isDateTime(out) || !out.isValid) {
    throw new UsageError('businessDate: the function did not return a valid luxon DateTime');
  }
  return out.setZone(zone).startOf('day');
}

/** Parse a `yyyy-MM-dd` from the command line into the start of that day in `zone`. */
export function parseDateArg(text: string, zone: string, flag = '--date'): DateTime {
  if (!ISO_DATE.test(text)) throw new UsageError(`${flag}: '${text}' is not a date; expected yyyy-MM-dd`);
  const d = DateTime.fromISO(text, { zone });
  if (!d.isValid) throw new UsageError(`${flag}: '${text}' is not a real date`);
  return d.startOf('day');
}

/** Every date from `from` to `to` inclusive (calendar days). */
export function dateRange(from: DateTime, to: DateTime): DateTime[] {
  if (to < from) throw new UsageError('--to is before --from');
  const out: DateTime[] = [];
  for (let d = from; d <= to; d = d.plus({ days: 1 }).startOf('day')) {
    out.push(d);
    if (out.length > 3660) throw new UsageError('--from/--to spans more than ten years');
  }
  return out;
}

export interface DayWindow {
  date: DateTime;
  /** Start of the business day (inclusive). */
  from: DateTime;
  /** Start of the next day (exclusive). */
  to: DateTime;
}

export function dayWindow(date: DateTime): DayWindow {
  const from = date.startOf('day');
  return { date: from, from, to: from.plus({ days: 1 }).startOf('day') };
}

/**
 * The values bound to `:date`, `:from` and `:to`. `:from`/`:to` are wall-clock texts in the
 * config zone; PostgreSQL and MySQL sessions run in that zone, so the same text compares
 * correctly with `timestamptz`, `timestamp`, `DATETIME` and `TIMESTAMP` columns, and matches
 * how SQLite databases usually store local times.
 */
export function windowParams(w: DayWindow): { date: string; from: string; to: string } {
  return {
    date: w.date.toFormat('yyyy-MM-dd'),
    from: w.from.toFormat('yyyy-MM-dd HH:mm:ss'),
    to: w.to.toFormat('yyyy-MM-dd HH:mm:ss'),
  };
}
