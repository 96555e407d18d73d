/**
 * `canonicalText` for callers outside the encoder (tests, the PostgreSQL fast path's checks):
 * one value, one column, one zone.
 */
import { FormatError } from '../errors.js';
import type { Value } from '../values.js';
import { makeRenderer, ValueProblem } from './render.js';
import { ZoneClock } from './time.js';
import type { ResolvedColumn } from './types.js';

/** Zone objects by name: building one asks ICU, so it happens once per zone, not per call. */
const clocks = new Map<string, ZoneClock>();

function clockFor(timezone: string): ZoneClock {
  let clock = clocks.get(timezone);
  if (!clock) {
    clock = new ZoneClock(timezone);
    if (clocks.size > 64) clocks.clear();
    clocks.set(timezone, clock);
  }
  return clock;
}

/**
 * The canonical text of a value in a column (declared type, `format`, `decimals`, `bool` applied),
 * with timestamps written in `timezone`; null for SQL NULL. This is the text every format writes
 * (before csv quoting, kv escaping or JSON string encoding).
 * @throws FormatError when the value does not fit the column's type.
 * @throws ConfigError when `timezone` is not a known zone.
 */
export function canonicalText(value: Value, column: ResolvedColumn, timezone: string): string | null {
  if (value === null) return null;
  try {
    return makeRenderer(column, clockFor(timezone))(value);
  } catch (e) {
    if (e instanceof ValueProblem) throw new FormatError(`column '${column.key}': ${e.message}`);
    throw e;
  }
}
