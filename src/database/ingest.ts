/**
 * The ingest side shared by the three adapters: the marker table, the one-transaction flow of
 * {@link SourceDatabase.ingest}, load-target checks, identifier quoting and the conversion of
 * typed values into what each database reads exactly (text for decimals, dates and times, never
 * a float). The dialect-specific bulk paths live in `ingest-pg.ts`, `ingest-mysql.ts` and
 * `ingest-sqlite.ts`; they plug into {@link Ingester} through {@link IngestDialect}.
 *
 * Flow of one ingest (all dialects):
 * 1. outside any transaction, once per open database: `CREATE TABLE IF NOT EXISTS` the marker
 *    table (MySQL commits DDL implicitly, and two PostgreSQL transactions creating the same table
 *    at the same moment fail on the catalog, so it never runs inside the ingest transaction);
 * 2. one knex transaction (callback form: knex commits or rolls back, and the connection cannot
 *    leak): session setup, then [DELETE the old marker,] INSERT the marker with rows = 0. The
 *    primary key (job, sha256) makes a second process ingesting the same file wait for the first
 *    and then fail with a unique violation → {@link DuplicateIngestError};
 * 3. `fn(tx)` loads the rows through `tx.load()` (or `tx.knex`);
 * 4. UPDATE the marker's row count; commit. Any error rolls everything back and is rethrown.
 */
import type { Knex } from 'knex';
import { ConfigError, DatabaseError, DuplicateIngestError, isFerryError, RejectedRowError } from '../errors.js';
import { Decimal, Instant, LocalDate, WallTime } from '../values.js';
import type { Value } from '../values.js';
import { checkZone, daysFromCivil } from './convert.js';
import { columnPreparers, preparedRows, type ColumnKind } from './load-values.js';
import type { BindValue, Dialect, IngestMarker, IngestOptions, IngestTransaction, IngestedFile, LoadTarget } from './types.js';

/** The marker table, in the target database's default schema. */
export const MARKER_TABLE = 'ferry_ingested_files';

/**
 * How long a second run waits for the first run's lock on the same marker before giving up
 * (MySQL `innodb_lock_wait_timeout` for the marker statement, SQLite retry deadline). PostgreSQL
 * waits as long as the server's `lock_timeout` allows (unlimited by default).
 */
export const MARKER_LOCK_WAIT_SECONDS = 3600;

// ---------------------------------------------------------------------------------------------
// Identifiers

/** Quotes of every dialect and NUL: an identifier holding one could break out of its quoting. */
const BAD_IDENT = /["'`\0]/;

function checkIdent(name: string, what: string): void {
  if (typeof name !== 'string' || name === '' || BAD_IDENT.test(name)) {
    throw new ConfigError([`${what}: ${JSON.stringify(name)} is not a usable identifier (empty, or holds a quote or NUL)`]);
  }
}

/** One identifier (a column) quoted for the dialect: `"x"` (pg, sqlite) or `` `x` `` (mysql). */
export function quoteIdent(name: string, dialect: Dialect, what = 'column'): string {
  checkIdent(name, what);
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/**
 * A table name, optionally schema-qualified (`ledger.settlements`; the database on MySQL,
 * an attached database on SQLite), quoted part by part. Names that contain a dot themselves are
 * not supported.
 */
export function quoteTable(name: string, dialect: Dialect): string {
  checkIdent(name, 'table');
  const parts = name.split('.');
  if (parts.length > 2) throw new ConfigError([`table: ${JSON.stringify(name)} has more than schema.table`]);
  return parts.map((p) => quoteIdent(p, dialect, 'table')).join('.');
}

// ---------------------------------------------------------------------------------------------
// Load targets

/** A {@link LoadTarget} checked and with every identifier quoted for its dialect. */
export interface CheckedTarget {
  /** The table name as configured, for messages. */
  name: string;
  /** Quoted table name. */
  table: string;
  /** Quoted target columns, in row order. */
  columns: string[];
  mode: LoadTarget['mode'];
  /** upsert: quoted key columns. */
  key: string[];
  /** upsert: quoted columns that are not part of the key (the ones an existing row gets). */
  nonKey: string[];
  /** replace: quoted column and its value. */
  replace?: { column: string; value: BindValue };
}

/**
 * Check a load target and quote its identifiers.
 * @throws ConfigError for a missing column list, duplicate columns, a key that is not among the
 *   columns, a replace without its column, or identifiers with quotes.
 */
export function checkTarget(target: LoadTarget, dialect: Dialect): CheckedTarget {
  const where = `ingest into ${JSON.stringify(target.table)}`;
  const table = quoteTable(target.table, dialect);
  if (!Array.isArray(target.columns) || target.columns.length === 0) throw new ConfigError([`${where}: no columns to load`]);
  const seen = new Set<string>();
  for (const c of target.columns) {
    // Unquoted-name duplicates only; the database reports case-folding duplicates itself.
    if (seen.has(c)) throw new ConfigError([`${where}: column ${JSON.stringify(c)} is listed twice`]);
    seen.add(c);
  }
  const columns = target.columns.map((c) => quoteIdent(c, dialect));
  let key: string[] = [];
  let nonKey: string[] = [];
  if (target.mode === 'upsert') {
    const k = target.key ?? [];
    if (k.length === 0) throw new ConfigError([`${where}: mode 'upsert' needs the key columns`]);
    for (const c of k) {
      if (!seen.has(c)) throw new ConfigError([`${where}: key column ${JSON.stringify(c)} is not among the loaded columns`]);
    }
    const keySet = new Set(k);
    key = k.map((c) => quoteIdent(c, dialect));
    nonKey = target.columns.filter((c) => !keySet.has(c)).map((c) => quoteIdent(c, dialect));
  } else if (target.mode !== 'insert' && target.mode !== 'replace') {
    throw new ConfigError([`${where}: unknown mode ${JSON.stringify(target.mode)}`]);
  }
  let replace: CheckedTarget['replace'];
  if (target.mode === 'replace') {
    if (!target.replace) throw new ConfigError([`${where}: mode 'replace' needs replace: { column, value }`]);
    replace = { column: quoteIdent(target.replace.column, dialect), value: target.replace.value };
  }
  return { name: target.table, table, columns, mode: target.mode, key, nonKey, ...(replace ? { replace } : {}) };
}

/** The error for a row whose number of values differs from the target's columns. */
export function rowShapeError(t: CheckedTarget, rowNumber: number, got: number): DatabaseError {
  return new DatabaseError(`loading into ${t.name}: row ${rowNumber} has ${got} values for ${t.columns.length} columns`);
}

// ---------------------------------------------------------------------------------------------
// Value conversion

/** `WallTime` text (`yyyy-MM-ddTHH:mm:ss[.f]`) in the SQL form `yyyy-MM-dd HH:mm:ss[.f]`. */
export function wallSql(w: WallTime): string {
  return w.text.replace('T', ' ');
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** Civil date of days since 1970-01-01 (inverse of {@link daysFromCivil}, H. Hinnant). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

/** Seconds since the epoch (of UTC or of a wall clock) as `yyyy-MM-dd HH:mm:ss`, with `sep` between. */
function secondsText(seconds: number, sep: string): string {
  const days = Math.floor(seconds / 86400);
  let rest = seconds - days * 86400;
  const [y, m, d] = civilFromDays(days);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const mi = Math.floor(rest / 60);
  const s = rest - mi * 60;
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}${sep}${pad2(h)}:${pad2(mi)}:${pad2(s)}`;
}

/** An Instant as ISO text in UTC (`2024-03-10T14:59:59.5Z`): PostgreSQL reads it exactly into timestamptz. */
export function instantIso(i: Instant): string {
  return `${secondsText(i.epochSeconds, 'T')}${i.fraction ? '.' + i.fraction : ''}Z`;
}

/**
 * Renders Instants as wall-clock text of one zone (`yyyy-MM-dd HH:mm:ss[.f]`), for databases
 * that store time without an offset (MySQL DATETIME/TIMESTAMP read in the session zone, SQLite
 * text). Offsets come from Intl to the second (historic LMT offsets included) and are cached per
 * 15-minute slot: when both ends of a slot have the same offset it holds for the whole slot, since
 * no zone changes its offset twice within 15 minutes; otherwise the exact second is looked up.
 */
export class WallClock {
  private readonly fixed: number | undefined;
  private readonly dtf: Intl.DateTimeFormat | undefined;
  private readonly slots = new Map<number, number>();

  /** @param zone an IANA zone, or a fixed offset `±HH:MM` (MySQL's fallback session zone). */
  constructor(zone: string) {
    const m = /^([+-])(\d{2}):(\d{2})$/.exec(zone);
    if (m) {
      this.fixed = (m[1] === '-' ? -1 : 1) * (+m[2]! * 3600 + +m[3]! * 60);
    } else {
      this.dtf = new Intl.DateTimeFormat('en-US', {
        timeZone: checkZone(zone),
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    }
  }

  private exactOffset(seconds: number): number {
    const f: Record<string, number> = {};
    for (const p of this.dtf!.formatToParts(new Date(seconds * 1000))) f[p.type] = +p.value;
    const wall = daysFromCivil(f['year']!, f['month']!, f['day']!) * 86400 + f['hour']! * 3600 + f['minute']! * 60 + f['second']!;
    return wall - seconds;
  }

  /** The zone's UTC offset in seconds at this instant. */
  offsetAt(seconds: number): number {
    if (this.fixed !== undefined) return this.fixed;
    const slot = Math.floor(seconds / 900);
    const cached = this.slots.get(slot);
    if (cached !== undefined) return cached;
    const a = this.exactOffset(slot * 900);
    if (a !== this.exactOffset(slot * 900 + 899)) return this.exactOffset(seconds);
    if (this.slots.size > 10000) this.slots.clear();
    this.slots.set(slot, a);
    return a;
  }

  /** The instant as wall-clock text of this zone. */
  wall(i: Instant): string {
    return `${secondsText(i.epochSeconds + this.offsetAt(i.epochSeconds), ' ')}${i.fraction ? '.' + i.fraction : ''}`;
  }
}

/**
 * The text a database reads back as exactly this value, shared by every dialect: decimals,
 * integers, dates and times as text, Instants by `instant`. Booleans and bytes differ per dialect
 * and are handled by the callers before this.
 */
export function valueText(v: Exclude<Value, null | boolean | Uint8Array>, instant: (i: Instant) => string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Decimal || v instanceof LocalDate) return v.text;
  if (v instanceof WallTime) return wallSql(v);
  if (v instanceof Instant) return instant(v);
  throw new DatabaseError(`cannot load a value of type ${typeof v}: ${String(v)}`);
}

// ---------------------------------------------------------------------------------------------
// Driver errors

/** The driver's message with PostgreSQL's detail/hint/context; never connection settings. */
export function driverMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const x = e as Error & { detail?: string; where?: string; hint?: string };
  let msg = e.message;
  // COPY errors say where: `COPY stage, line 3, column amt: "abc"` — the line is the row of the load.
  const at = x.where ? /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(x.where) : null;
  if (at) msg += ` at row ${at[1]}${at[2] ? `, column ${at[2]}` : ''}`;
  if (x.detail) msg += ` (${x.detail})`;
  if (x.hint) msg += ` hint: ${x.hint}`;
  return msg;
}

/** Property a dialect's load sets on a driver error: the row of the load it failed on (1-based). */
const LOAD_ROW = Symbol.for('ferry.loadRow');

/** Note on a driver error the row of the load it belongs to (see {@link loadRowOf}). */
export function tagLoadRow(e: unknown, row: number): void {
  if (e !== null && typeof e === 'object') (e as Record<symbol, unknown>)[LOAD_ROW] = row;
}

/** The row {@link tagLoadRow} noted, if any. */
export function loadRowOf(e: unknown): number | undefined {
  const r = e !== null && typeof e === 'object' ? (e as Record<symbol, unknown>)[LOAD_ROW] : undefined;
  return typeof r === 'number' ? r : undefined;
}

/** Wrap a driver error as a DatabaseError naming the database and what failed; ferry errors pass. */
export function wrapError(db: string, what: string, e: unknown): Error {
  if (isFerryError(e)) return e;
  return new DatabaseError(`database "${db}": ${what}: ${driverMessage(e)}`, { cause: e });
}

// ---------------------------------------------------------------------------------------------
// The ingest flow

/** What a dialect provides inside the ingest transaction. */
export interface DialectSession {
  /** Run one statement with `?` placeholders on the transaction's connection. */
  exec(sql: string, params: BindValue[]): Promise<void>;
  /** Bulk-load into a checked target; returns the number of rows read. */
  load(target: CheckedTarget, rows: AsyncIterable<Value[]>): Promise<number>;
  /**
   * The target's columns as the value check needs them ({@link ColumnKind}), in the order of
   * `target.columns`; `{ kind: 'other' }` for a column the table does not have (the load then
   * fails on the database's own error).
   */
  columnKinds(target: CheckedTarget, names: readonly string[]): Promise<ColumnKind[]>;
  /** Before the marker statements: make a concurrent run's lock wait long (or short, for retries). */
  beforeMarker?(): Promise<void>;
  /** After the marker statements (also when they failed): restore what beforeMarker changed. */
  afterMarker?(): Promise<void>;
}

/** One dialect's part of the ingest flow. */
export interface IngestDialect {
  readonly dialect: Dialect;
  /** `CREATE TABLE IF NOT EXISTS` for the marker table. */
  readonly markerDdl: string;
  /** Session setup on the transaction's connection (zone, modes); returns the session. */
  open(trx: Knex.Transaction, zone: string): Promise<DialectSession>;
  /** The error is a unique / primary key violation. */
  isUniqueViolation(e: unknown): boolean;
  /** The error means another transaction holds the lock (timeout, busy, deadlock). */
  isLockConflict(e: unknown): boolean;
  /**
   * The error comes from the driver (a failed statement), as opposed to an error of the job's
   * own code thrown through `fn`, which is passed on unchanged.
   */
  isDriverError(e: unknown): boolean;
  /** The error means the marker table does not exist. */
  isMissingTable(e: unknown): boolean;
  /**
   * A driver error of a load that is about the data (a value the column refuses, a NULL in a NOT
   * NULL column, a failed CHECK): where it is, when the driver says, and what. Undefined for any
   * other error (connection, lock, missing table), which fails the run instead of rejecting the file.
   */
  dataError(e: unknown): { row?: number; column?: string; message: string } | undefined;
  /** The error of CREATE TABLE IF NOT EXISTS means another session created it at the same moment. */
  isCreateRace?(e: unknown): boolean;
  /**
   * SQLite only: a lock conflict at the marker rolls back and retries the whole transaction after
   * an asynchronous pause, because better-sqlite3 waits for locks synchronously and would block
   * the event loop (and with it a second connection of the same process) for the whole wait.
   */
  readonly retryOnLockConflict?: boolean;
}

/** Marker-table DDL of a dialect (column types per the contract in types.ts). */
export function markerDdl(dialect: Dialect): string {
  const q = (n: string): string => quoteIdent(n, dialect);
  const cols =
    dialect === 'mysql'
      ? `${q('job')} varchar(200) NOT NULL, ${q('sha256')} char(64) CHARACTER SET ascii NOT NULL, ${q('file_name')} text NOT NULL, ` +
        `${q('business_date')} char(10) NOT NULL, ${q('rows')} bigint NOT NULL, ${q('ingested_at')} bigint NOT NULL`
      : `${q('job')} varchar(200) NOT NULL, ${q('sha256')} char(64) NOT NULL, ${q('file_name')} text NOT NULL, ` +
        `${q('business_date')} char(10) NOT NULL, ${q('rows')} bigint NOT NULL, ${q('ingested_at')} bigint NOT NULL`;
  const tail = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : '';
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(MARKER_TABLE, dialect, 'table')} (${cols}, PRIMARY KEY (${q('job')}, ${q('sha256')}))${tail}`;
}

/** A lock conflict at the marker (SQLite): the transaction is rolled back and retried. */
class MarkerBusy extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Numbers from any driver (number, bigint, Decimal, string) as a JS number. */
function toNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(String(v));
}

/**
 * The ingest side of one open database: marker table, transaction flow and error mapping. Each
 * adapter holds one and delegates `ingestedFile` and `ingest` to it.
 */
export class Ingester {
  /** The marker table is known to exist (created or seen) on this database. */
  private markerReady = false;

  constructor(
    private readonly db: string,
    private readonly knex: Knex,
    private readonly d: IngestDialect,
  ) {}

  /** See {@link SourceDatabase.ingestedFile}. */
  async ingestedFile(job: string, sha256: string): Promise<IngestedFile | undefined> {
    const q = (n: string): string => quoteIdent(n, this.d.dialect);
    const sql =
      `SELECT ${q('file_name')} AS file_name, ${q('business_date')} AS business_date, ${q('rows')} AS n, ${q('ingested_at')} AS at ` +
      `FROM ${quoteIdent(MARKER_TABLE, this.d.dialect, 'table')} WHERE ${q('job')} = ? AND ${q('sha256')} = ?`;
    let rows: Record<string, unknown>[];
    try {
      const res: unknown = await this.knex.raw(sql, [job, sha256]);
      rows = rawRows(this.d.dialect, res);
    } catch (e) {
      if (this.d.isMissingTable(e)) return undefined;
      throw wrapError(this.db, `reading ${MARKER_TABLE} failed`, e);
    }
    const r = rows[0];
    if (!r) return undefined;
    return { fileName: String(r['file_name']), businessDate: String(r['business_date']).trim(), rows: toNumber(r['n']), at: toNumber(r['at']) };
  }

  private async ensureMarkerTable(): Promise<void> {
    if (this.markerReady) return;
    const deadline = Date.now() + MARKER_LOCK_WAIT_SECONDS * 1000;
    for (;;) {
      try {
        await this.knex.raw(this.d.markerDdl);
        break;
      } catch (e) {
        if (this.d.isCreateRace?.(e)) break;
        if (this.d.retryOnLockConflict && this.d.isLockConflict(e) && Date.now() < deadline) {
          await sleep(100);
          continue;
        }
        throw wrapError(this.db, `cannot create the marker table ${MARKER_TABLE}`, e);
      }
    }
    this.markerReady = true;
  }

  /** See {@link SourceDatabase.ingest}. */
  async ingest(marker: IngestMarker, fn: (tx: IngestTransaction) => Promise<number>, options: IngestOptions): Promise<number> {
    checkZone(options.timezone);
    if (!/^[0-9a-f]{64}$/.test(marker.sha256)) throw new ConfigError([`ingest: sha256 must be 64 lowercase hex digits, got ${JSON.stringify(marker.sha256)}`]);
    if (marker.job === '' || marker.job.length > 200) throw new ConfigError([`ingest: job name must have 1 to 200 characters`]);
    await this.ensureMarkerTable();
    const deadline = Date.now() + MARKER_LOCK_WAIT_SECONDS * 1000;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
      try {
        return await this.attempt(marker, fn, options);
      } catch (e) {
        if (!(e instanceof MarkerBusy)) throw e;
        if (Date.now() >= deadline) {
          throw new DatabaseError(
            `database "${this.db}": another run has been ingesting ${marker.fileName} for job ${marker.job} for over ` +
              `${MARKER_LOCK_WAIT_SECONDS} s and still holds the lock; nothing was loaded`,
            { cause: e.cause },
          );
        }
        await sleep(pause);
      }
    }
  }

  private async attempt(marker: IngestMarker, fn: (tx: IngestTransaction) => Promise<number>, options: IngestOptions): Promise<number> {
    const d = this.d;
    const q = (n: string): string => quoteIdent(n, d.dialect);
    const mt = quoteIdent(MARKER_TABLE, d.dialect, 'table');
    const where = `${q('job')} = ? AND ${q('sha256')} = ?`;
    const what = `ingest of ${marker.fileName} (job ${marker.job})`;
    try {
      return await this.knex.transaction(async (trx) => {
        let session: DialectSession;
        try {
          session = await d.open(trx, options.timezone);
        } catch (e) {
          throw wrapError(this.db, `${what}: session setup failed`, e);
        }
        // The marker goes first: from here on a concurrent run of the same file waits for us.
        try {
          await session.beforeMarker?.();
          if (options.replaceMarker) await session.exec(`DELETE FROM ${mt} WHERE ${where}`, [marker.job, marker.sha256]);
          await session.exec(
            `INSERT INTO ${mt} (${q('job')}, ${q('sha256')}, ${q('file_name')}, ${q('business_date')}, ${q('rows')}, ${q('ingested_at')}) ` +
              `VALUES (?, ?, ?, ?, 0, ?)`,
            [marker.job, marker.sha256, marker.fileName, marker.businessDate, Date.now()],
          );
        } catch (e) {
          // The transaction may be aborted (PostgreSQL): restoring is best effort here, and the
          // rollback that follows ends it anyway.
          await session.afterMarker?.().catch(() => undefined);
          if (d.isUniqueViolation(e)) {
            throw new DuplicateIngestError(`${marker.fileName} (job ${marker.job}) was already ingested by another run`, { cause: e });
          }
          if (d.isLockConflict(e)) {
            if (d.retryOnLockConflict) throw new MarkerBusy('marker locked', { cause: e });
            throw new DatabaseError(
              `database "${this.db}": ${what}: another run is ingesting the same file at the same time and holds its lock ` +
                `(${driverMessage(e)}); nothing was loaded`,
              { cause: e },
            );
          }
          throw wrapError(this.db, `${what}: writing the marker to ${MARKER_TABLE} failed`, e);
        }
        await session.afterMarker?.();
        let loads = 0;
        const tx: IngestTransaction = {
          knex: trx,
          load: async (target, rows) => {
            const checked = checkTarget(target, d.dialect);
            loads++;
            try {
              // Every value is checked against its column before it is sent (load-values.ts).
              const kinds = await session.columnKinds(checked, target.columns);
              const prepare = columnPreparers(kinds, target.columns, d.dialect, options.timezone);
              return await session.load(checked, preparedRows(rows, prepare, target.columns));
            } catch (e) {
              // The rows' own errors (a parse error in the file, a refused value) pass unchanged;
              // the database's data errors reject the file like the check would have.
              if (!d.isDriverError(e)) throw e;
              const data = d.dataError(e);
              if (data) throw new RejectedRowError(data.row, data.column, `the database refused the value: ${data.message}`, { cause: e });
              throw wrapError(this.db, `loading into ${target.table} failed`, e);
            }
          },
        };
        const n = await fn(tx);
        if (!Number.isSafeInteger(n) || n < 0) {
          throw new ConfigError([`ingest function for ${marker.fileName} returned ${String(n)} instead of a row count (after ${loads} load(s))`]);
        }
        try {
          await session.exec(`UPDATE ${mt} SET ${q('rows')} = ? WHERE ${where}`, [n, marker.job, marker.sha256]);
        } catch (e) {
          throw wrapError(this.db, `${what}: updating the marker failed`, e);
        }
        return n;
      });
    } catch (e) {
      // Our own statements are wrapped where they run; what arrives here unwrapped was thrown by
      // fn (its own error: passed on) or by knex's COMMIT / a query of a custom function on
      // tx.knex (driver errors: wrapped).
      if (e instanceof MarkerBusy || !d.isDriverError(e)) throw e;
      throw wrapError(this.db, `${what} failed`, e);
    }
  }
}

/** Rows of `knex.raw()` results, which differ per driver. */
function rawRows(dialect: Dialect, res: unknown): Record<string, unknown>[] {
  if (dialect === 'pg') return (res as { rows: Record<string, unknown>[] }).rows;
  if (dialect === 'mysql') return (res as [Record<string, unknown>[]])[0];
  return res as Record<string, unknown>[];
}
