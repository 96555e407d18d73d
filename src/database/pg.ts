/**
 * PostgreSQL adapter (pg + pg-query-stream + pg-copy-streams, connections from knex's pool).
 *
 * Values are converted by per-connection type parsers (`types` in the client config) rather than
 * the global `pg.types`, so nothing else in the process that uses pg is affected. Every query runs
 * on one pooled connection inside `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`, which gives a
 * consistent snapshot for exports that read several tables.
 */
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { Client, CustomTypesConfig, FieldDef } from 'pg';
import QueryStream from 'pg-query-stream';
import { to as copyTo } from 'pg-copy-streams';
import { DatabaseError, isFerryError } from '../errors.js';
import { Decimal } from '../values.js';
import type { SourceColumn, SourceType, Value } from '../values.js';
import { BadValue, checkedRows, checkZone, parseDate, parseInstant, parseWallTime } from './convert.js';
import { bindNamed, inlineNamed } from './params.js';
import { buildCopySql, pgCsvUnsupported } from './pg-csv.js';
import { KnexDatabase } from './base.js';
import { Ingester } from './ingest.js';
import { pgIngest } from './ingest-pg.js';
import type {
  BindValue,
  CsvExportOptions,
  QueryOptions,
  RowStream,
  SourceDatabase,
} from './types.js';

/** Type OIDs from pg_type that ferry maps (stable since PostgreSQL 7). */
const OID = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

function parseNumeric(text: string): Decimal | BadValue {
  // numeric also has NaN and ±Infinity, which no exact decimal can hold.
  return /^-?\d/.test(text) ? new Decimal(text) : new BadValue(text, 'not a finite number');
}

function parseBytea(text: string): Uint8Array {
  // bytea_output = 'hex' is set on the session: `\x` followed by two hex digits per byte.
  return new Uint8Array(Buffer.from(text.slice(2), 'hex'));
}

const identity = (text: string): string => text;

function parserFor(oid: number): (text: string) => unknown {
  switch (oid) {
    case OID.int2:
    case OID.int4:
    case OID.float4:
    case OID.float8:
      return Number;
    case OID.int8:
    case OID.numeric:
      return parseNumeric;
    case OID.bool:
      return (t) => t === 't';
    case OID.date:
      return parseDate;
    case OID.timestamp:
      return parseWallTime;
    case OID.timestamptz:
      return (t) => parseInstant(t) ?? new BadValue(t, 'not a timestamp with an offset');
    case OID.bytea:
      return parseBytea;
    default:
      // json, jsonb, text, uuid, arrays, intervals…: PostgreSQL's own text, unparsed.
      return identity;
  }
}

/** Per-connection type parsers: every driver value becomes a ferry {@link Value}. */
export const PG_TYPES = {
  getTypeParser: ((oid: number, format?: string) => (format === 'binary' ? (v: unknown) => v : parserFor(oid))) as unknown,
} as CustomTypesConfig;

function sourceType(oid: number): SourceType {
  switch (oid) {
    case OID.text:
    case OID.varchar:
    case OID.bpchar:
    case OID.char:
    case OID.name:
    case OID.uuid:
      return 'string';
    case OID.int2:
    case OID.int4:
    case OID.int8:
    case OID.oid:
      return 'int';
    case OID.numeric:
      return 'decimal';
    case OID.float4:
    case OID.float8:
      return 'float';
    case OID.bool:
      return 'bool';
    case OID.date:
      return 'date';
    case OID.timestamp:
      return 'timestamp';
    case OID.timestamptz:
      return 'timestamptz';
    case OID.bytea:
      return 'bytes';
    case OID.json:
    case OID.jsonb:
      return 'json';
    default:
      return 'unknown';
  }
}

/** Column types whose parsers may return a BadValue that must be reported. */
const CHECKED: ReadonlySet<SourceType> = new Set(['int', 'decimal', 'date', 'timestamp', 'timestamptz']);

/** Session setup before every export: zone, stable text formats, then the snapshot. */
function sessionSql(zone: string): string {
  return (
    `SET TIME ZONE '${checkZone(zone)}'; SET datestyle = 'ISO, YMD'; SET intervalstyle = 'postgres'; ` +
    `SET bytea_output = 'hex'; SET standard_conforming_strings = on; SET extra_float_digits = 1; ` +
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'
  );
}

/** A pooled pg client as knex hands it out (knex marks broken ones `__knex__disposed`). */
type PooledClient = Client & { __knex__disposed?: unknown };

/** The part of pg's wire connection a statement description needs. */
interface WireConnection {
  parse(msg: { text: string; types: number[] }): void;
  describe(msg: { type: 'S'; name: string }): void;
  sync(): void;
}

/**
 * The columns of the user's statement exactly as written, without running it and without
 * wrapping it: Parse + Describe (statement) + Sync of the extended protocol. The server parses
 * and plans nothing else, so a trailing `;` is fine and a syntax error points at the user's own
 * text. pg's Client runs any object with `submit()` in its queue and hands it the replies.
 */
function describeStatement(client: Client, text: string): Promise<FieldDef[]> {
  return new Promise((resolve, reject) => {
    let fields: FieldDef[] = [];
    const submittable = {
      submit(con: WireConnection): void {
        con.parse({ text, types: [] });
        con.describe({ type: 'S', name: '' });
        con.sync();
      },
      handleRowDescription(msg: { fields: FieldDef[] }): void {
        fields = msg.fields;
      },
      // pg drops an errored statement from its queue before ReadyForQuery: settle here.
      handleError(e: Error): void {
        reject(e);
      },
      handleReadyForQuery(): void {
        resolve(fields);
      },
      // Describe never produces rows, copies or completions; pg calls these only for other messages.
      handleDataRow(): void {},
      handleCommandComplete(): void {},
      handleEmptyQuery(): void {},
      handlePortalSuspended(): void {},
      handleCopyInResponse(): void {},
      handleCopyData(): void {},
    };
    (client as unknown as { query(s: unknown): unknown }).query(submittable);
  });
}

/** One connection with an open snapshot. */
interface Session {
  client: PooledClient;
  /** Commit (ok) or roll back, then release the connection; runs once. */
  finish: (ok: boolean) => Promise<void>;
  /** Stop the running statement so the connection can be ended (set by the query). */
  interrupt: () => void;
}

export class PgDatabase extends KnexDatabase implements SourceDatabase {
  readonly dialect = 'pg' as const;

  /** The ingest side (COPY into the target or a stage: see ingest-pg.ts). */
  protected readonly ingester: Ingester;

  constructor(name: string, knex: Knex) {
    super(name, knex);
    this.ingester = new Ingester(name, knex, pgIngest);
  }

  private fail(what: string, e: unknown): Error {
    if (isFerryError(e)) return e;
    const msg = e instanceof Error ? e.message : String(e);
    return new DatabaseError(`database "${this.name}": ${what}: ${msg}`, { cause: e });
  }

  private async acquire(): Promise<PooledClient> {
    try {
      return (await this.knex.client.acquireConnection()) as PooledClient;
    } catch (e) {
      throw this.fail('cannot connect to PostgreSQL', e);
    }
  }

  /**
   * Acquire a connection, set up the session and open the snapshot. Returns `finish(ok)`,
   * which commits (or rolls back) and returns the connection to the pool exactly once.
   */
  private async begin(zone: string): Promise<Session> {
    const setup = sessionSql(zone);
    const client = await this.acquire();
    let done = false;
    const session: Session = { client, finish: async () => undefined, interrupt: () => undefined };
    const finish = async (ok: boolean): Promise<void> => {
      if (done) return;
      done = true;
      this.open.delete(abort);
      try {
        if (!client.__knex__disposed) await client.query(ok ? 'COMMIT' : 'ROLLBACK');
      } catch (e) {
        // A session that cannot end its transaction must not go back into the pool.
        client.__knex__disposed = e;
        if (ok) throw this.fail('commit failed', e);
      } finally {
        await this.knex.client.releaseConnection(client);
      }
    };
    // close() with a query still open: stop its stream first, or the ROLLBACK would queue
    // behind a cursor nobody reads.
    const abort = async (): Promise<void> => {
      session.interrupt();
      await finish(false);
    };
    session.finish = finish;
    this.open.add(abort);
    try {
      await client.query(setup);
    } catch (e) {
      await finish(false);
      throw this.fail('session setup failed', e);
    }
    return session;
  }

  async query(sql: string, params: Record<string, BindValue>, options: QueryOptions): Promise<RowStream> {
    const bound = bindNamed(sql, params, 'pg');
    const session = await this.begin(options.timezone);
    const { client, finish } = session;
    const qs = new QueryStream(bound.sql, bound.values, { batchSize: 1000, rowMode: 'array', types: PG_TYPES });
    session.interrupt = () => qs.destroy();
    const it = qs[Symbol.asyncIterator]() as AsyncIterator<Value[]>;
    let first: IteratorResult<Value[]>;
    try {
      client.query(qs);
      // The row description arrives with the first batch, so the columns are known after it.
      first = await it.next();
    } catch (e) {
      await finish(false);
      throw this.fail('query failed', e);
    }
    const fields = ((qs._result as { fields?: FieldDef[] }).fields ?? []) as FieldDef[];
    const columns: SourceColumn[] = fields.map((f) => ({ name: f.name, type: sourceType(f.dataTypeID) }));
    const rows = checkedRows({
      first,
      it,
      columns,
      checkedTypes: CHECKED,
      db: this.name,
      fail: (what, e) => this.fail(what, e),
      // Destroys the cursor (Close + Sync) before the rollback.
      abort: async () => {
        await it.return?.().catch(() => undefined);
      },
      finish,
    });
    return { columns, rows };
  }

  async describe(sql: string, params: Record<string, BindValue>, options: QueryOptions): Promise<SourceColumn[]> {
    const bound = bindNamed(sql, params, 'pg');
    const { client, finish } = await this.begin(options.timezone);
    try {
      const fields = await describeStatement(client, bound.sql);
      return fields.map((f) => ({ name: f.name, type: sourceType(f.dataTypeID) }));
    } catch (e) {
      throw this.fail('describe failed', e);
    } finally {
      await finish(true).catch(() => undefined);
    }
  }

  async exportCsv(
    sql: string,
    params: Record<string, BindValue>,
    options: CsvExportOptions,
  ): Promise<{ stream: Readable; rowCount(): number }> {
    const why = pgCsvUnsupported(options);
    if (why) throw new DatabaseError(`database "${this.name}": the COPY fast path cannot write this file: ${why}`);
    checkZone(options.timezone);
    const copySql = buildCopySql(inlineNamed(sql, params, 'pg'), options);
    const session = await this.begin(options.timezone);
    const { client, finish } = session;
    const copy = client.query(copyTo(copySql));
    const kill = (): void => {
      // pg-copy-streams cannot stop a COPY TO half way: the socket would stay paused with
      // unread CopyData. Closing the connection aborts the COPY (and its transaction) on the
      // server; the pool drops the connection because it is marked disposed.
      client.__knex__disposed = 'COPY aborted';
      client.end().catch(() => undefined);
    };
    session.interrupt = kill;
    const it = copy[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let first: IteratorResult<Buffer>;
    try {
      // Wait for the first chunk so SQL errors surface here rather than mid-file.
      first = await it.next();
    } catch (e) {
      await finish(false);
      throw this.fail('COPY failed', e);
    }
    const fail = (what: string, e: unknown): Error => this.fail(what, e);
    async function* chunks(): AsyncGenerator<Buffer> {
      let ok = false;
      try {
        let r = first;
        while (!r.done) {
          yield r.value;
          r = await it.next();
        }
        ok = true;
      } catch (e) {
        throw fail('COPY failed', e);
      } finally {
        if (!ok) kill();
        await finish(ok);
      }
    }
    return { stream: Readable.from(chunks(), { objectMode: false }), rowCount: () => copy.rowCount };
  }

  async ping(): Promise<string> {
    const client = await this.acquire();
    try {
      const res = await client.query<{ v: string }>('SELECT version() AS v');
      const m = /^PostgreSQL [^ ,]+/.exec(res.rows[0]?.v ?? '');
      return m ? m[0] : `PostgreSQL (${res.rows[0]?.v ?? 'unknown version'})`;
    } catch (e) {
      throw this.fail('ping failed', e);
    } finally {
      await this.knex.client.releaseConnection(client);
    }
  }
}
