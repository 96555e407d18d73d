/**
 * The database port: what core needs from a source database. One adapter per driver
 * (better-sqlite3, pg, mysql2), chosen in `src/database/index.ts`. Core never imports knex or a
 * driver; adapters convert every driver value into the typed values of `src/values.ts`.
 */
import type { Readable } from 'node:stream';
import type { ResolvedColumn } from '../formats/types.js';
import type { SourceColumn, Value } from '../values.js';

export type Dialect = 'sqlite' | 'pg' | 'mysql';

/** A value that may be bound to a named parameter. */
export type BindValue = string | number | boolean | null;

export interface QueryOptions {
  /** IANA zone of the config: session zone for pg/mysql, zone for wall-clock text in SQLite. */
  timezone: string;
}

/** An open streaming query: columns are known before the first row is read. */
export interface RowStream {
  columns: SourceColumn[];
  /** Rows as arrays in `columns` order. Breaking out of the loop closes the query. */
  rows: AsyncIterable<Value[]>;
}

/** What the database renders itself on the fast path (CSV bytes, UTF-8, `\n` line ends). */
export interface CsvExportOptions {
  columns: ResolvedColumn[];
  delimiter: string;
  header: boolean;
  timezone: string;
}

export interface SourceDatabase {
  readonly dialect: Dialect;
  /**
   * Run `sql` with named parameters (`:name`) and stream the rows with flat memory.
   * Unknown `:names` in the SQL are an error naming them.
   */
  query(sql: string, params: Record<string, BindValue>, options: QueryOptions): Promise<RowStream>;
  /** The columns `sql` returns, without reading rows. */
  describe(sql: string, params: Record<string, BindValue>, options: QueryOptions): Promise<SourceColumn[]>;
  /**
   * Fast path: let the database write the CSV itself (PostgreSQL `COPY (…) TO STDOUT`).
   * Absent when the dialect has none. The bytes must equal what the csv encoder writes for the
   * same rows and options. `rowCount()` is valid after the stream ended.
   */
  exportCsv?(
    sql: string,
    params: Record<string, BindValue>,
    options: CsvExportOptions,
  ): Promise<{ stream: Readable; rowCount(): number }>;
  /** Server version, for `ferry check`. */
  ping(): Promise<string>;
  close(): Promise<void>;
}
