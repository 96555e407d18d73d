/**
 * SQLite adapter (better-sqlite3 through knex's single-connection pool).
 *
 * knex's `.stream()` on SQLite calls `statement.all()` and so holds the whole result in memory;
 * this adapter takes the raw connection and iterates a prepared statement instead, which reads
 * one row at a time. SQLite has no column types of its own, so values are interpreted by the
 * declared type of the column (`stmt.columns()`), and expressions by their JS value.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Knex } from 'knex';
import { DatabaseError, isFerryError } from '../errors.js';
import { Decimal, LocalDate, ROW_BATCHES } from '../values.js';
import type { RowBatchSource, SourceColumn, SourceType, Value } from '../values.js';
import { BadValue, checkZone, parseInstant, parsePlainWallTime, parseWallTime, plainNumberText, toBytes } from './convert.js';
import { bindNamed } from './params.js';
import { KnexDatabase } from './base.js';
import { Ingester } from './ingest.js';
import { sqliteIngest } from './ingest-sqlite.js';
import type { BindValue, QueryOptions, RowStream, SourceDatabase } from './types.js';

/**
 * Normalised type of a declared SQLite column type. The checks follow SQLite's own affinity
 * rules (INT first), except that DECIMAL/NUMERIC wins over TEXT: a column declared
 * `DECIMAL TEXT` has TEXT affinity, which is how SQLite can keep exact decimals (NUMERIC affinity
 * turns `0.10` into the REAL 0.1 and keeps only 15 significant digits).
 */
export function sqliteSourceType(declared: string | null): SourceType {
  if (!declared) return 'unknown';
  const t = declared.toUpperCase().trim();
  if (t.includes('INT')) return 'int';
  if (t.includes('DECIMAL') || t.includes('NUMERIC')) return 'decimal';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'float';
  if (t.includes('BOOL')) return 'bool';
  if (/^DATE(\s*\(.*\))?$/.test(t)) return 'date';
  if (t.includes('DATETIME') || t.includes('TIMESTAMP')) return 'timestamp';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'string';
  if (t.includes('BLOB')) return 'bytes';
  if (t.includes('JSON')) return 'json';
  return 'unknown';
}

const DECIMAL_TEXT = /^[+-]?\d+(\.\d+)?$/;

/** Rows per batch handed to the consumer: enough to make the per-batch await negligible. */
const BATCH_ROWS = 256;

/** `/^\d{4}-\d{2}-\d{2}$/.test(v)` by character codes: it runs once per date cell. */
function isDateText(v: string): boolean {
  if (v.length !== 10 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45) return false;
  for (let i = 0; i < 10; i++) {
    if (i === 4 || i === 7) continue;
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

type Convert = (v: unknown) => Value;

/** Anything not handled below: bytes become plain Uint8Array, the rest passes unchanged. */
const asIs: Convert = (v) => (v instanceof Uint8Array ? toBytes(v) : (v as Value));

/**
 * How a cell of a column of this type becomes a Value. SQLite lets any cell hold any storage
 * class, so a value that does not fit the declared type is passed on as it is rather than refused.
 */
function converter(type: SourceType): Convert {
  switch (type) {
    case 'decimal':
      return (v) => {
        if (typeof v === 'bigint') return new Decimal(String(v));
        if (typeof v === 'number' && Number.isFinite(v)) return new Decimal(plainNumberText(v));
        if (typeof v === 'string' && DECIMAL_TEXT.test(v)) return new Decimal(v.charCodeAt(0) === 43 /* + */ ? v.slice(1) : v);
        return asIs(v);
      };
    case 'float':
      return (v) => (typeof v === 'bigint' ? Number(v) : asIs(v));
    case 'bool':
      return (v) => {
        if (v === 0n || v === 0 || v === 'false') return false;
        if (v === 1n || v === 1 || v === 'true') return true;
        return asIs(v);
      };
    case 'date':
      return (v) => (typeof v === 'string' && isDateText(v) ? new LocalDate(v) : asIs(v));
    case 'timestamp':
      return (v) => {
        if (typeof v !== 'string') return asIs(v);
        // Most cells are plain `yyyy-MM-dd HH:mm:ss` text: decided in one pass without regexes,
        // and such text has no offset, so trying parseInstant first would only fail.
        const plain = parsePlainWallTime(v);
        if (plain !== undefined) return plain instanceof BadValue ? v : plain;
        const instant = parseInstant(v);
        if (instant && !(instant instanceof BadValue)) return instant;
        const wall = parseWallTime(v);
        return wall instanceof BadValue ? v : wall;
      };
    default:
      // int keeps bigint (safeIntegers), strings stay strings, expressions keep their JS value.
      return asIs;
  }
}

export class SqliteDatabase extends KnexDatabase implements SourceDatabase {
  readonly dialect = 'sqlite' as const;

  /** The ingest side (prepared statements on the transaction connection: see ingest-sqlite.ts). */
  protected readonly ingester: Ingester;

  constructor(name: string, knex: Knex) {
    super(name, knex);
    this.ingester = new Ingester(name, knex, sqliteIngest);
  }

  private fail(what: string, e: unknown): Error {
    if (isFerryError(e)) return e;
    const msg = e instanceof Error ? e.message : String(e);
    return new DatabaseError(`database "${this.name}": ${what}: ${msg}`, { cause: e });
  }

  private async acquire(): Promise<BetterSqlite3.Database> {
    try {
      return (await this.knex.client.acquireConnection()) as BetterSqlite3.Database;
    } catch (e) {
      throw this.fail('cannot open the SQLite file', e);
    }
  }

  private release(conn: BetterSqlite3.Database): Promise<void> {
    return this.knex.client.releaseConnection(conn) as Promise<void>;
  }

  private prepare(conn: BetterSqlite3.Database, sql: string): BetterSqlite3.Statement {
    const stmt = conn.prepare(sql);
    if (!stmt.reader) throw new DatabaseError(`database "${this.name}": source.sql must be a query that returns rows`);
    return stmt;
  }

  async query(sql: string, params: Record<string, BindValue>, options: QueryOptions): Promise<RowStream> {
    checkZone(options.timezone);
    const bound = bindNamed(sql, params, 'sqlite');
    // better-sqlite3 refuses booleans; SQLite stores them as 0/1 anyway.
    const values = bound.values.map((v) => (typeof v === 'boolean' ? Number(v) : v));
    const conn = await this.acquire();
    let iter: IterableIterator<unknown[]>;
    let columns: SourceColumn[];
    try {
      const stmt = this.prepare(conn, bound.sql).safeIntegers(true).raw(true);
      columns = stmt.columns().map((c) => ({ name: c.name, type: sqliteSourceType(c.type) }));
      iter = stmt.iterate(...values) as IterableIterator<unknown[]>;
    } catch (e) {
      await this.release(conn);
      throw this.fail('query failed', e);
    }
    const convert = columns.map((c) => converter(c.type));
    const n = convert.length;
    let done = false;
    // The connection stays busy until the iterator is closed: only then may it go back to the
    // pool (knex's SQLite pool has one connection).
    const finish = async (): Promise<void> => {
      if (done) return;
      done = true;
      this.open.delete(finish);
      try {
        iter.return?.();
      } finally {
        await this.release(conn);
      }
    };
    this.open.add(finish);
    const fail = (what: string, e: unknown): Error => this.fail(what, e);

    // better-sqlite3 steps synchronously, so rows are read and converted in small batches with
    // one await (generator step) per batch rather than per row. A batch is a few hundred rows, so
    // memory stays flat; the statement stays open between batches exactly as it did between rows.
    async function* batches(): AsyncGenerator<Value[][]> {
      try {
        for (let more = true; more; ) {
          const batch: Value[][] = [];
          while (batch.length < BATCH_ROWS) {
            const r = iter.next();
            if (r.done) {
              more = false;
              break;
            }
            const raw = r.value;
            const row = new Array<Value>(n);
            for (let i = 0; i < n; i++) row[i] = convert[i]!(raw[i]);
            batch.push(row);
          }
          if (batch.length > 0) yield batch;
        }
      } catch (e) {
        throw fail('reading rows failed', e);
      } finally {
        await finish();
      }
    }
    // One batch generator serves both ways of reading (see ROW_BATCHES); it is created on first use.
    let source: AsyncGenerator<Value[][]> | undefined;
    const take = (): AsyncGenerator<Value[][]> => (source ??= batches());
    async function* eachRow(): AsyncGenerator<Value[]> {
      for await (const batch of take()) {
        for (const row of batch) yield row;
      }
    }
    const rows: AsyncIterable<Value[]> & RowBatchSource = {
      [Symbol.asyncIterator]: () => eachRow(),
      [ROW_BATCHES]: take,
    };
    return { columns, rows };
  }

  async describe(sql: string, params: Record<string, BindValue>, options: QueryOptions): Promise<SourceColumn[]> {
    checkZone(options.timezone);
    const bound = bindNamed(sql, params, 'sqlite');
    const conn = await this.acquire();
    try {
      return this.prepare(conn, bound.sql)
        .columns()
        .map((c) => ({ name: c.name, type: sqliteSourceType(c.type) }));
    } catch (e) {
      throw this.fail('describe failed', e);
    } finally {
      await this.release(conn);
    }
  }

  async ping(): Promise<string> {
    const conn = await this.acquire();
    try {
      return `SQLite ${String(conn.prepare('SELECT sqlite_version()').pluck().get())}`;
    } catch (e) {
      throw this.fail('ping failed', e);
    } finally {
      await this.release(conn);
    }
  }
}
