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
