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
  /**
   * Was this file (by sha256) already ingested for this job? Reads the marker table
   * `ferry_ingested_files` in this database (absent table = nothing ingested yet).
   */
  ingestedFile(job: string, sha256: string): Promise<IngestedFile | undefined>;
  /**
   * Run `fn` in ONE transaction of this database and write the marker row (job, sha256) in the
   * same transaction, so "these rows" and "this file was ingested" commit together or not at all.
   * The marker is inserted first: a second process ingesting the same file at the same time
   * blocks on its primary key and then fails with `DuplicateIngestError`. `replaceMarker`
   * deletes an earlier marker of the same file first (operator's reingest). Returns fn's result.
   */
  ingest(marker: IngestMarker, fn: (tx: IngestTransaction) => Promise<number>, options: IngestOptions): Promise<number>;
  close(): Promise<void>;
}

export interface IngestMarker {
  job: string;
  sha256: string;
  fileName: string;
  businessDate: string;
}

export interface IngestedFile {
  fileName: string;
  businessDate: string;
  rows: number;
  /** epoch ms */
  at: number;
}

export interface IngestOptions {
  /** IANA zone: timestamps are written as wall times / instants of this zone. */
  timezone: string;
  replaceMarker?: boolean;
}

/** What to load and how, in the target database. */
export interface LoadTarget {
  table: string;
  /** Target columns, in the order of each row's values. */
  columns: string[];
  mode: 'insert' | 'upsert' | 'replace';
  /** upsert: the key columns (a primary key or unique index). */
  key?: string[];
  /** replace: delete the rows where `column = value` before inserting. */
  replace?: { column: string; value: BindValue };
}

export interface IngestTransaction {
  /**
   * Bulk-load rows with flat memory, by the fastest safe means of the dialect (COPY into a
   * staging table on PostgreSQL, prepared statements on SQLite, multi-row inserts sized to the
   * server's limits on MySQL/MariaDB). Returns the number of rows read from `rows`.
   */
  load(target: LoadTarget, rows: AsyncIterable<Value[]>): Promise<number>;
  /** The knex transaction, for a job's custom `ingest` function. */
  readonly knex: unknown;
}
