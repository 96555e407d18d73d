/**
 * Typed cell values: the one shape every database adapter hands to the formats.
 *
 * Drivers disagree about types (pg parses DATE into a JS Date in the process zone, mysql2
 * returns DECIMAL as strings, better-sqlite3 has no types at all). Each adapter converts
 * at the driver boundary into these values, so the same query gives the same bytes on every
 * database. Nothing here goes through a float unless the database stored a float.
 */

/** An exact decimal or integer as the database holds it, e.g. `-12345678901234567890.000100`. */
export class Decimal {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A calendar date without time or zone, `yyyy-MM-dd`. */
export class LocalDate {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/**
 * A wall-clock timestamp without a zone (SQL `timestamp without time zone`, MySQL `DATETIME`,
 * SQLite text without an offset). It is read as a local time in the configured time zone.
 * `text` is `yyyy-MM-ddTHH:mm:ss` with an optional fraction of up to 9 digits.
 */
export class WallTime {
  // Private fields on purpose: they are a cache of `text`, not part of the value, and
  // deepEqual/deepStrictEqual ignore them, so a WallTime an adapter parsed still equals
  // `new WallTime(sameText)`.
  readonly #localSeconds: number;
  readonly #fraction: string;

  /**
   * `localSeconds` and `fraction` may be given by a creator that has just parsed `text` (an
   * adapter reading a million timestamps), so the encoder does not parse the text again. They
   * must describe `text` exactly and be given only for a real calendar date: `localSeconds` is
   * days since 1970-01-01 · 86400 + second of the day, `fraction` the digits after the point
   * without trailing zeros.
   */
  constructor(
    readonly text: string,
    localSeconds = Number.NaN,
    fraction = '',
  ) {
    this.#localSeconds = localSeconds;
    this.#fraction = fraction;
  }

  /** The parsed wall time as {@link WallTime.constructor} describes it, or NaN when not known. */
  get localSeconds(): number {
    return this.#localSeconds;
  }

  /** Fraction digits without trailing zeros; meaningful only when {@link localSeconds} is known. */
  get fraction(): string {
    return this.#fraction;
  }

  toString(): string {
    return this.text;
  }
}

/**
 * A point in time (SQL `timestamptz`, MySQL `TIMESTAMP`, text with an offset).
 * `epochSeconds` is whole seconds since 1970 UTC; `fraction` the fractional digits exactly as
 * the database gave them, without trailing zeros ('' when whole), so microseconds survive.
 */
export class Instant {
  constructor(
    readonly epochSeconds: number,
    readonly fraction: string,
  ) {}
}

/**
 * A cell: `null` is SQL NULL. `number` only for values the database stored as a float or a
 * small integer; exact numerics arrive as {@link Decimal}; `bigint` from drivers that give it.
 */
export type Value = null | string | boolean | number | bigint | Decimal | LocalDate | WallTime | Instant | Uint8Array;

/**
 * Key of an optional method on a row iterable (an adapter's `rows`) that returns the same rows in
 * arrays of a few hundred: the consumer then awaits once per batch instead of once per row, which
 * at a million rows is a noticeable share of an export. A consumer uses either this or the
 * iterable itself, never both; breaking out of the batch loop closes the query like breaking out
 * of the row loop. `Symbol.for` so that copies of this module (tests loading `src/` next to
 * `dist/`) agree on it.
 */
export const ROW_BATCHES: unique symbol = Symbol.for('ferry.rowBatches');

/** A row iterable that can also hand out batches (see {@link ROW_BATCHES}). */
export interface RowBatchSource {
  [ROW_BATCHES](): AsyncIterator<readonly (readonly Value[])[]>;
}

/** Column metadata reported by the source database, used for defaults and fast-path eligibility. */
export interface SourceColumn {
  /** Column name as the query returns it. */
  name: string;
  /**
   * Normalised type when the driver tells it: 'string' | 'int' | 'decimal' | 'float' | 'bool' |
   * 'date' | 'timestamp' (wall time) | 'timestamptz' | 'bytes' | 'json' | 'unknown'.
   */
  type: SourceType;
}

export type SourceType =
  | 'string'
  | 'int'
  | 'decimal'
  | 'float'
  | 'bool'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'bytes'
  | 'json'
  | 'unknown';
