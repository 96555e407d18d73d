/**
 * The Format seam: how typed rows become the bytes of a file (and, later, how partner files
 * become typed rows). One implementation per format type (csv, kv, jsonl), chosen in
 * `src/formats/index.ts`.
 */
import type { ColumnType, FormatSpec } from '../types.js';
import type { SourceColumn, SourceType, Value } from '../values.js';

/** A column of the output after `format.columns` was matched against the query's columns. */
export interface ResolvedColumn {
  /** Column name in the query result. */
  source: string;
  /** Position of that column in each row array. */
  index: number;
  /** Header text (csv) or key (kv, jsonl). */
  key: string;
  /** Declared type, else the type the database reported. */
  type: ColumnType | SourceType;
  /** luxon format for date/timestamp values. */
  format?: string;
  /** Fixed decimal places for numbers. */
  decimals?: number;
  /** NULL text for this column (csv/kv). */
  nullText?: string;
  /** Booleans as [true text, false text]. */
  bool?: [string, string];
}

export interface EncodeOptions {
  format: FormatSpec;
  columns: ResolvedColumn[];
  /** IANA zone: timestamps are written with this zone's offset. */
  timezone: string;
  /** Business date `yyyy-MM-dd`, for `{date:FORMAT}` in trailers. */
  businessDate: string;
  /** File name, used in error messages. */
  fileName: string;
}

/** Running totals an encoder keeps for trailers and the record of the produced file. */
export interface EncodeStats {
  rows: number;
}

export type { SourceColumn, Value };

/** A column of a received file after the job's `format.columns` was resolved. */
export interface ImportColumn {
  /** Name in the file (header name, kv key, jsonl key). */
  key: string;
  /** Database column it loads into. */
  target: string;
  type: ColumnType;
  /** luxon format of dates/timestamps in the file. */
  format?: string;
  nullable: boolean;
}

export interface DecodeOptions {
  format: import('../types.js').ImportFormatSpec;
  columns: ImportColumn[];
  /** IANA zone: timestamps without an offset are wall times in this zone. */
  timezone: string;
  /** File name, used in error messages. */
  fileName: string;
  /** Stop collecting after this many problems (default 20). */
  maxProblems?: number;
}

/** One validated record: values in `columns` order, typed (Decimal, LocalDate, WallTime, Instant, …). */
export interface DecodedRow {
  /** 1-based line where the record starts in the file. */
  line: number;
  values: Value[];
}

/** What the decoder learned about the whole file, valid after the rows were consumed. */
export interface DecodeSummary {
  rows: number;
  /** The trailer line's text, when the format declares a trailer. */
  trailer?: string;
  /**
   * With a trailer: the exact sum of each column its `{sum:column}` placeholders name, keyed by
   * that name as written in the template (NULLs skipped; '0' without rows). For `checkTrailer`.
   */
  sums?: Map<string, string>;
}
