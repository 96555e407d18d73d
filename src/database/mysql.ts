/**
 * MySQL / MariaDB adapter (mysql2 core connections from knex's pool).
 *
 * mysql2 would turn DATE/DATETIME into JS Dates in the process zone and BIGINT/DECIMAL into
 * floats; the connection options here (`dateStrings`, big-number strings, `typeCast`) keep the
 * server's text and convert it into ferry's values instead.
 *
 * TIMESTAMP columns: the server converts them into the session `time_zone`, which is set to the
 * config zone, and they are returned as WallTime in that zone (not as Instant). When the server
 * has no time zone tables (MariaDB packages often ship without them: error 1298), the session
 * uses the zone's current fixed UTC offset instead, so TIMESTAMP values from the other side of a
 * DST change are an hour off in such zones. Zones without DST (Asia/Seoul, UTC) are exact.
 */
import type { Knex } from 'knex';
import type { Connection, FieldPacket, Query } from 'mysql2';
import { DatabaseError, isFerryError } from '../errors.js';
import { Decimal } from '../values.js';
import type { SourceColumn, SourceType, Value } from '../values.js';
import { checkedRows, checkZone, currentOffset, parseDate, parseWallTime, toBytes } from './convert.js';
import { KnexDatabase } from './base.js';
import { Ingester } from './ingest.js';
import { mysqlIngest } from './ingest-mysql.js';
import { bindNamed } from './params.js';
import type {
  BindValue,
  QueryOptions,
  RowStream,
  SourceDatabase,
} from './types.js';

/** The field as mysql2 hands it to `typeCast`. */
interface CastField {
  type: string;
  length: number;
  name: string;
  string(encoding?: string): string | null;
}

/**
 * mysql2 `typeCast`: the server's text for exact numbers and dates, booleans for TINYINT(1),
 * bytes as plain Uint8Array. Date parsers return a BadValue for zero dates; the row loop reports it.
 */
export function mysqlTypeCast(field: CastField, next: () => unknown): unknown {
  switch (field.type) {
    case 'NEWDECIMAL':
    case 'DECIMAL':
    case 'LONGLONG': {
      const s = field.string('ascii');
      return s === null ? null : new Decimal(s);
    }
    case 'DATE':
    case 'NEWDATE': {
      const s = field.string('ascii');
      return s === null ? null : parseDate(s);
    }
    case 'DATETIME':
    case 'TIMESTAMP': {
      const s = field.string('ascii');
      return s === null ? null : parseWallTime(s);
    }
    case 'TINY': {
      const v = next();
      // TINYINT(1) is how MySQL spells BOOLEAN.
      return field.length === 1 && typeof v === 'number' ? v !== 0 : v;
    }
    case 'JSON':
      // MySQL sends JSON as binary charset; the text is UTF-8 by definition.
      return field.string('utf8');
    default: {
      // Binary-charset strings and blobs arrive as Buffer; text columns as string.
      const v = next();
      return v instanceof Uint8Array ? toBytes(v) : v;
    }
  }
}

/** mysql2 column type codes (include/mysql_com.h `enum_field_types`). */
const T = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
} as const;
const BINARY_CHARSET = 63;

function sourceType(f: FieldPacket): SourceType {
  const type = f.columnType ?? f.type;
  switch (type) {
    case T.TINY:
      return f.columnLength === 1 ? 'bool' : 'int';
    case T.SHORT:
    case T.LONG:
    case T.INT24:
    case T.YEAR:
    case T.LONGLONG:
      return 'int';
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return 'decimal';
    case T.FLOAT:
    case T.DOUBLE:
      return 'float';
    case T.DATE:
    case T.NEWDATE:
      return 'date';
    case T.DATETIME:
    case T.TIMESTAMP:
      return 'timestamp';
    case T.JSON:
      return 'json';
    case T.VARCHAR:
    case T.VAR_STRING:
    case T.STRING:
    case T.ENUM:
    case T.SET:
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      return f.characterSet === BINARY_CHARSET ? 'bytes' : 'string';
    default:
      return 'unknown';
  }
}

const CHECKED: ReadonlySet<SourceType> = new Set(['date', 'timestamp']);

/** A pooled mysql2 connection as knex hands it out. */
type PooledConnection = Connection & { __knex__disposed?: unknown };

/** Error number of "Unknown or incorrect time zone". */
const ER_UNKNOWN_TIME_ZONE = 1298;

function run(conn: Connection, sql: string, values: unknown[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.query(sql, values, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export class MysqlDatabase extends KnexDatabase implements SourceDatabase {
  readonly dialect = 'mysql' as const;
  /** Zone → what `SET time_zone` accepted for it (the name, or the offset fallback). */
  private readonly zoneSetting = new Map<string, string>();

  /** The ingest side (marker table, transaction, multi-row inserts): see ingest-mysql.ts. */
  protected readonly ingester: Ingester;

  constructor(name: string, knex: Knex) {
    super(name, knex);
    this.ingester = new Ingester(name, knex, mysqlIngest({ setZone: (conn, zone) => this.setZone(conn, zone) }));
  }

  private fail(what: string, e: unknown): Error {
    if (isFerryError(e)) return e;
    const msg = e instanceof Error ? e.message : String(e);
    return new DatabaseError(`database "${this.name}": ${what}: ${msg}`, { cause: e });
  }

  private async acquire(): Promise<PooledConnection> {
    try {
      return (await this.knex.client.acquireConnection()) as PooledConnection;
    } catch (e) {
      throw this.fail('cannot connect to MySQL', e);
    }
  }

  /** Set the session time_zone for `zone`; returns what was set (the zone, or its offset fallback). */
  private async setZone(conn: Connection, zone: string): Promise<string> {
    const known = this.zoneSetting.get(zone);
    if (known) {
      await run(conn, 'SET time_zone = ?', [known]);
      return known;
    }
    try {
      await run(conn, 'SET time_zone = ?', [zone]);
      this.zoneSetting.set(zone, zone);
      return zone;
    } catch (e) {
      if ((e as { errno?: number }).errno !== ER_UNKNOWN_TIME_ZONE) throw e;
      const offset = currentOffset(zone);
      await run(conn, 'SET time_zone = ?', [offset]);
      this.zoneSetting.set(zone, offset);
      return offset;
    }
  }

  /**
   * Acquire a connection and open a read-only consistent snapshot in the config zone. Returns
   * `finish(ok)`, which ends the transaction and releases the connection exactly once.
   */
  private async begin(zone: string): Promise<{ conn: PooledConnection; finish: (ok: boolean) => Promise<void>; setInterrupt: (f: () => void) => void }> {
    checkZone(zone);
    const conn = await this.acquire();
    let done = false;
    let interrupt = (): void => undefined;
    const finish = async (ok: boolean): Promise<void> => {
      if (done) return;
      done = true;
      this.open.delete(abort);
      try {
        if (!conn.__knex__disposed) await run(conn, ok ? 'COMMIT' : 'ROLLBACK');
      } catch (e) {
        conn.__knex__disposed = e;
        if (ok) throw this.fail('commit failed', e);
      } finally {
        await this.knex.client.releaseConnection(conn);
      }
    };
    const abort = async (): Promise<void> => {
      interrupt();
      await finish(false);
    };
    this.open.add(abort);
    try {
      await this.setZone(conn, zone);
      // Long exports to a slow consumer keep the server waiting on the socket; the default 60 s
      // would make it drop the connection mid-file.
      await run(conn, 'SET SESSION net_write_timeout = 600');
      await run(conn, 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await run(conn, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    } catch (e) {
      await finish(false);
      throw this.fail('session setup failed', e);
    }
    return { conn, finish, setInterrupt: (f) => void (interrupt = f) };
  }

  async query(sql: string, params: Record<string, BindValue>, options: QueryOptions): Promise<RowStream> {
    const bound = bindNamed(sql, params, 'mysql');
    const { conn, finish, setInterrupt } = await this.begin(options.timezone);
    let fields: FieldPacket[] = [];
    const q: Query = conn.query({ sql: bound.sql, values: bound.values, rowsAsArray: true });
    const stream = q.stream({ highWaterMark: 1000 });
    stream.once('fields', (f: FieldPacket[]) => (fields = f));
    const it = stream[Symbol.asyncIterator]() as AsyncIterator<Value[]>;
    // A stream left half read keeps the socket paused with rows in flight, so the connection is
    // unusable: close it and let the pool drop it (the server ends the transaction).
    const kill = (): void => {
      conn.__knex__disposed = 'query aborted';
      conn.destroy();
    };
    setInterrupt(kill);
    let first: IteratorResult<Value[]>;
    try {
      first = await it.next();
    } catch (e) {
      await finish(false);
      throw this.fail('query failed', e);
    }
    const columns: SourceColumn[] = fields.map((f) => ({ name: f.name, type: sourceType(f) }));
    const rows = checkedRows({
      first,
      it,
      columns,
      checkedTypes: CHECKED,
      db: this.name,
      fail: (what, e) => this.fail(what, e),
      abort: kill,
      finish,
    });
    return { columns, rows };
  }

  async describe(sql: string, params: Record<string, BindValue>, options: QueryOptions): Promise<SourceColumn[]> {
    const bound = bindNamed(sql, params, 'mysql');
    const { conn, finish } = await this.begin(options.timezone);
    try {
      const fields = await new Promise<FieldPacket[]>((resolve, reject) => {
        conn.query({ sql: `SELECT * FROM (\n${bound.sql}\n) AS q LIMIT 0`, values: bound.values }, (err, _rows, f) =>
          err ? reject(err) : resolve((f ?? []) as FieldPacket[]),
        );
      });
      return fields.map((f) => ({ name: f.name, type: sourceType(f) }));
    } catch (e) {
      throw this.fail('describe failed', e);
    } finally {
      await finish(true).catch(() => undefined);
    }
  }

  async ping(): Promise<string> {
    const conn = await this.acquire();
    try {
      const rows = (await run(conn, 'SELECT version() AS v')) as { v: string }[];
      const v = rows[0]?.v ?? '';
      const m = /^(\d+\.\d+\.\d+)(.*)$/.exec(v);
      if (!m) return `MySQL ${v}`;
      return /mariadb/i.test(m[2]!) ? `MariaDB ${m[1]}` : `MySQL ${m[1]}`;
    } catch (e) {
      throw this.fail('ping failed', e);
    } finally {
      await this.knex.client.releaseConnection(conn);
    }
  }
}
