/**
 * Public types for job authors: `ferry.config.ts` and `jobs/*.ts`.
 *
 * Glossary
 * - job: one file in `jobs/`; its file name is the job name.
 * - business date: the day the data belongs to, in the config time zone (`yyyy-MM-dd`).
 * - instance: one business date of one job; the unit that is run, leased, retried, reported.
 * - attempt: one try at an instance (a `ferry run`); it records files, deliveries and errors.
 * - produced file: the bytes an export attempt wrote, kept in the local archive (the outbox)
 *   with size, rows and sha256 before any delivery starts.
 * - delivery: putting one produced file to one destination, atomically.
 * - lease: the claim a run holds on an instance in the state store so no other run works on it.
 */
import type { DateTime } from 'luxon';

/** A value read from the environment when a connection is opened. Created by `env()`. */
export interface EnvRef {
  readonly $secret: 'env';
  readonly name: string;
}
/** The contents of a file read when a connection is opened. Created by `file()`. */
export interface FileRef {
  readonly $secret: 'file';
  readonly path: string | EnvRef;
}
/** A configuration value that may come from the environment or a file. */
export type Secret<T = string> = T | EnvRef | FileRef;

export interface DatabaseConnection {
  type: 'database';
  /** 'sqlite' (embedded default, better-sqlite3), 'pg', 'mysql' (MySQL and MariaDB, mysql2). */
  client: 'sqlite' | 'better-sqlite3' | 'pg' | 'postgres' | 'postgresql' | 'mysql' | 'mysql2' | 'mariadb';
  /**
   * A URL (`postgres://…`, `mysql://…`), a SQLite file path (relative to the project), or an
   * options object for the driver. Strings may be `env()`/`file()` references.
   */
  connection: Secret | Record<string, Secret<string | number | boolean>>;
}

export interface LocalConnection {
  type: 'local';
  /** The folder that `dir` of a delivery is resolved against (relative to the project). */
  root: string;
}

/** Timeouts and retries shared by network connections. */
interface NetworkOptions {
  host: string;
  port?: number;
  /** Give up connecting (TCP + handshake + login) after this long (default 20000). */
  connectTimeoutMs?: number;
  /** Abort a transfer or command that makes no progress for this long (default 60000). */
  idleTimeoutMs?: number;
  /**
   * Upload to a temporary name and rename (default true). Set false only for servers that forbid
   * rename: the file is then written under its final name directly, and a warning is logged.
   */
  atomic?: boolean;
}

export interface SftpConnection extends NetworkOptions {
  type: 'sftp';
  username: Secret;
  password?: Secret;
  /** PEM/OpenSSH private key text; usually `file('keys/id_ed25519')`. */
  privateKey?: Secret;
  passphrase?: Secret;
  /** ssh-agent socket path, or true for $SSH_AUTH_SOCK. */
  agent?: string | true;
  /** Pinned host key fingerprint(s) as `ssh-keygen -lf` prints them: 'SHA256:…'. */
  hostKey?: string | string[];
  /** A known_hosts file (relative to the project) to verify the host key against. */
  knownHosts?: string;
  /** Accept any host key. Explicit, and logged as a warning on every connect. */
  insecureSkipHostKeyCheck?: boolean;
  /** 'fast': parallel requests (default); 'stream': one request at a time, for servers that corrupt fast transfers. */
  transfer?: 'fast' | 'stream';
  /** Requests in flight for 'fast' transfers (default 64). */
  concurrency?: number;
  /**
   * Bytes per request. Default: what the server announces (`limits@openssh.com`, OpenSSH 8.7+:
   * up to 261120), else 32768 — the size every SFTP server accepts.
   */
  chunkSize?: number;
  /** Seconds between SSH keepalives (default 15). */
  keepaliveIntervalMs?: number;
  /** ssh2 algorithm lists for partners with legacy servers, e.g. { cipher: { append: ['aes128-cbc'] } }. */
  algorithms?: Record<string, unknown>;
}

export interface FtpConnection extends NetworkOptions {
  type: 'ftp';
  user: Secret;
  password?: Secret;
  /** false: plain FTP (logged as a warning); 'explicit': AUTH TLS (default); 'implicit': TLS from the start (port 990). */
  secure?: false | 'explicit' | 'implicit';
  /** PEM certificate(s) of a private CA the server's certificate must chain to. */
  ca?: Secret;
  /** Name the server certificate must carry when it differs from `host`. */
  servername?: string;
  /** For servers behind NAT that announce a private address in PASV replies. */
  allowSeparateTransferHost?: boolean;
  /** Cap the TLS version, for servers whose TLS 1.3 session reuse is broken. */
  tlsMaxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export type ConnectionConfig = DatabaseConnection | LocalConnection | SftpConnection | FtpConnection;

export interface RetryConfig {
  /** Tries per transfer inside one run (default 3). */
  tries?: number;
  /** First backoff delay in ms (default 1000); doubled each time, with full jitter. */
  baseDelayMs?: number;
  /** Ceiling for one backoff delay in ms (default 30000). */
  maxDelayMs?: number;
}

export interface FerryConfig {
  /** IANA zone for business dates, `{date}` in names, deadlines and timestamp output. */
  timezone?: string;
  /** Working folder for staging, archive, error folder and the default state db (default 'var'). */
  workDir?: string;
  /** State store: 'sqlite:<path>' (default 'sqlite:<workDir>/ferry.sqlite') or 'postgres://…'. */
  state?: Secret;
  connections?: Record<string, ConnectionConfig>;
  /** Runs of one instance before it stays failed until an operator acts (default 5). */
  maxAttempts?: number;
  /** Seconds a run's lease on an instance lasts without renewal (default 300). */
  leaseSeconds?: number;
  retry?: RetryConfig;
}

/** Which business date a run produces. A function gets "now" in the config time zone. */
export type BusinessDateRule = 'today' | 'yesterday' | ((now: DateTime) => DateTime);

/** Declared column types; they override what the driver reports. */
export type ColumnType = 'string' | 'int' | 'decimal' | 'float' | 'bool' | 'date' | 'timestamp' | 'timestamptz';

export interface ColumnSpec {
  /** Column name in the query result. */
  name: string;
  /** Name written to the header (csv) or as the key (kv, jsonl). Default: `name`. */
  as?: string;
  /** Treat the value as this type (e.g. SQLite text holding timestamps). */
  type?: ColumnType;
  /** luxon format for dates and timestamps, e.g. 'yyyyMMdd' or 'yyyy-MM-dd HH:mm:ss'. */
  format?: string;
  /** Fixed number of decimal places for numbers: pads with zeros, rounds half away from zero, exactly. */
  decimals?: number;
  /** Text for NULL in this column (overrides the format's `nullText`). */
  nullText?: string;
  /** Text for booleans, default ['true', 'false']. */
  bool?: [string, string];
}
export type Column = string | ColumnSpec;

export type LineEnding = 'lf' | 'crlf';
/** 'utf-8' | 'utf-8-bom' | 'euc-kr' | 'cp949' (and any other name iconv-lite knows). */
export type Encoding = string;

export interface TrailerSpec {
  /**
   * Template of the last line. Placeholders: `{count}` (data rows), `{sum:column}` (exact sum of
   * a numeric column), `{date:FORMAT}`. Example: 'TRAILER|{count}|{sum:amount}'.
   */
  template: string;
}

interface FormatBase {
  /** Columns to write and in which order; default: every column of the query, as named. */
  columns?: Column[];
  lineEnding?: LineEnding;
  encoding?: Encoding;
  /** A trailer line with control totals, for partners that want one. */
  trailer?: string | TrailerSpec;
}
export interface CsvFormat extends FormatBase {
  type: 'csv';
  /** One character: ',' (default), '\t', '|', ';' … */
  delimiter?: string;
  /** Write a header line (default true). */
  header?: boolean;
  /** Text for NULL (default ''); an empty string is then written as "". */
  nullText?: string;
  /** Quote every non-NULL field (default false: only when needed). */
  quoteAll?: boolean;
}
export interface KvFormat extends FormatBase {
  type: 'kv';
  /** Separator between pairs (default ' '). */
  separator?: string;
  /** What to do with NULL: omit the pair (default) or write `key=` / `key=<nullText>`. */
  nulls?: 'omit' | 'empty';
  nullText?: string;
}
export interface JsonlFormat extends FormatBase {
  type: 'jsonl';
}
export type FormatSpec = CsvFormat | KvFormat | JsonlFormat;

export interface RunContext {
  job: string;
  /** Business date, start of day in the config zone. */
  date: DateTime;
  /** Start of the business day (inclusive), config zone. */
  from: DateTime;
  /** Start of the next day (exclusive), config zone. */
  to: DateTime;
  timezone: string;
}

export interface ExportSource {
  /** Name of a `database` connection. */
  connection: string;
  /** The query; `:date`, `:from`, `:to` are always bound, `params(ctx)` may add more. */
  sql: string;
  params?: (ctx: RunContext) => Record<string, string | number | boolean | null>;
  /** Let the database render the file when the format allows it (default true). */
  fastPath?: boolean;
}

export interface FileSpec {
  /** Naming rule: `{date:FORMAT}`, `{job}`, `{seq}`/`{seq:000}`, `{now:FORMAT}`. */
  name: string;
  /** Write a `<name>.sha256` sidecar after the data file (default: none). */
  checksum?: 'sha256' | false;
  /** Done-file rule written after the data (and checksum): e.g. '{file}.done'. */
  doneFile?: string;
}

export type IfExists = 'fail' | 'overwrite' | 'skip';

export interface Delivery {
  /** Name of a `local`, `sftp` or `ftp` connection. */
  connection: string;
  /** Folder on that connection (default its root). */
  dir?: string;
  /** When the final name is taken by other bytes (default 'fail'). */
  ifExists?: IfExists;
  /** Create missing folders (default false: a mistyped folder is an error, not a new folder). */
  mkdir?: boolean;
}

export interface ExportJob {
  kind?: 'export';
  description?: string;
  /** Cron expression (5 fields) used by `ferry tick` and `ferry cron`. */
  schedule?: string;
  businessDate?: BusinessDateRule;
  source: ExportSource;
  format: FormatSpec;
  file: FileSpec;
  whenEmpty?: 'send' | 'skip' | 'fail';
  deliver?: Delivery[];
  /** Runs of one instance before it stays failed (default: config maxAttempts). */
  maxAttempts?: number;
}

/** A column of a received file. */
export interface ImportColumnSpec {
  type: ColumnType;
  /** Database column to load into (default: the file's column name). */
  as?: string;
  /** luxon format the file uses for dates/timestamps, e.g. 'yyyyMMdd' (default: ISO 8601 forms). */
  format?: string;
  /** An empty field (or `nullText`) is allowed and loads NULL (default false: a value is required). */
  nullable?: boolean;
}

interface ImportFormatBase {
  /**
   * The file's columns, in file order for headerless csv: `{ settlement_id: 'string', amount: 'decimal' }`.
   * With a header, the header names are matched (order free) and must all be present.
   */
  columns: Record<string, ColumnType | ImportColumnSpec>;
  /** 'utf-8' (default; a BOM is skipped), 'euc-kr', 'cp949', … */
  encoding?: Encoding;
  /**
   * The file ends with a trailer line matching this template; its `{count}` and `{sum:column}`
   * are checked against the data. Example: 'TRAILER|{count}|{sum:amount}'.
   */
  trailer?: string;
  /** UTF-8 bytes one record (csv record, kv or jsonl line) may take before the file is rejected (default 1 MiB). */
  maxRecordBytes?: number;
}
export interface CsvImportFormat extends ImportFormatBase {
  type: 'csv';
  delimiter?: string;
  /** The first line names the columns (default true). */
  header?: boolean;
  /** Text that means NULL in a nullable column (default ''). */
  nullText?: string;
}
export interface KvImportFormat extends ImportFormatBase {
  type: 'kv';
  separator?: string;
}
export interface JsonlImportFormat extends ImportFormatBase {
  type: 'jsonl';
}
export type ImportFormatSpec = CsvImportFormat | KvImportFormat | JsonlImportFormat;

export interface ImportFetch {
  /** A `local`, `sftp` or `ftp` connection. */
  connection: string;
  /** Folder to look in (default the connection's root). */
  dir?: string;
  /** Naming rule (`settle_{date:yyyyMMdd}.csv`) or a glob (`settle_*.csv`, `?` and `*`). */
  file: string;
  /** The file is complete when this done file exists (`{file}.done`). */
  doneFile?: string;
  /**
   * Else: size and mtime unchanged this long before reading ('30s', '2m'; default '30s'). '0s'
   * takes a file as soon as it is listed, even while the partner is still writing it; `ferry check`
   * warns about it.
   */
  stableFor?: string;
  /** What to do with the remote file after it is safely ingested and recorded (default 'keep'). */
  after?: 'keep' | 'delete' | { moveTo: string };
  /** Several files in one run: by name (default) or modification time. */
  order?: 'name' | 'mtime';
  /** At most this many files per run. */
  maxFiles?: number;
  /** Refuse files larger than this many bytes (default 10 GiB). */
  maxBytes?: number;
}

export interface ImportChecks {
  minRows?: number;
  maxRows?: number;
  /** 'sha256-sidecar': a `<file>.sha256` must exist beside the file and match. */
  checksum?: 'sha256-sidecar';
}

export interface LoadSpec {
  /** A `database` connection. */
  connection: string;
  table: string;
  /**
   * 'insert': plain inserts; 'upsert': insert or update by `key`; 'replace': delete the rows of
   * this business date (`replaceBy: { dateColumn }`) or of this file (`{ fileColumn }`), then insert.
   */
  mode: 'insert' | 'upsert' | 'replace';
  key?: string[];
  replaceBy?: { dateColumn: string } | { fileColumn: string };
}

export interface IngestContext extends RunContext {
  /** The received file's name and sha256. */
  fileName: string;
  sha256: string;
}

export interface ImportJob {
  kind?: 'import';
  description?: string;
  schedule?: string;
  businessDate?: BusinessDateRule;
  fetch: ImportFetch;
  /** 'HH:mm' in the config zone on the day of the run ('+1d HH:mm' for the day after the business date). */
  deadline?: string;
  format: ImportFormatSpec;
  checks?: ImportChecks;
  /** Load into a table … */
  load?: LoadSpec;
  /**
   * … or custom logic in the same transaction: `rows` yields one object per record (keys are the
   * target column names), `trx` is the knex transaction of `connection`.
   */
  ingest?: { connection: string; run: (rows: AsyncIterable<Record<string, unknown>>, trx: unknown, ctx: IngestContext) => Promise<void> };
  maxAttempts?: number;
}

export type JobDefinition = ExportJob | ImportJob;
