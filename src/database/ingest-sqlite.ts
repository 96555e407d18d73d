/**
 * SQLite bulk path of ingest: raw better-sqlite3 prepared statements on the ingest transaction's
 * connection (knex's SQLite pool has one connection, and `trx.client.acquireConnection()` hands
 * out exactly the one the transaction runs on). knex's own multi-row insert compiles to
 * `SELECT … UNION ALL` and fails beyond 500 rows; a prepared statement reused per row avoids both
 * the limit and knex's per-query overhead.
 *
 * Rows go `ROWS_PER_STATEMENT` at a time through one prepared multi-row `VALUES` statement (the
 * remainder through a smaller one), which measured faster than one row per call; a failing batch
 * is replayed row by row (SQLite undoes a failed statement, not the transaction) so the error
 * names the row.
 *
 * - upsert: `INSERT … ON CONFLICT (key) DO UPDATE SET col = excluded.col` for the non-key columns.
 *   Rows are applied in order, so a key repeated in the file keeps its LAST row.
 * - values: decimals, dates and wall times as text (a `DECIMAL TEXT` column keeps decimals exact;
 *   NUMERIC affinity would turn them into floats, which is the table's choice), Instants as wall
 *   time text `yyyy-MM-dd HH:mm:ss[.f]` of the config zone (the form SQLite sources hold), bigint
 *   as a 64-bit INTEGER (text beyond that range), booleans as 1/0, bytes as BLOB.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Knex } from 'knex';
import type { Value } from '../values.js';
import { markerDdl, loadRowOf, rowShapeError, tagLoadRow, valueText, WallClock } from './ingest.js';
import type { CheckedTarget, DialectSession, IngestDialect } from './ingest.js';
import type { ColumnKind } from './load-values.js';
import type { BindValue } from './types.js';

/** Rows per prepared statement call (see the module comment). */
export const ROWS_PER_STATEMENT = 50;

/** Lock wait per attempt at the marker; the ingest flow retries asynchronously after it. */
const MARKER_BUSY_MS = 100;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

type SqliteBind = string | number | bigint | Buffer | null;

function bind(v: Value, clock: WallClock): SqliteBind {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX ? v : String(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return valueText(v, (i) => clock.wall(i));
}

const bindParam = (v: BindValue): SqliteBind => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

function sqliteCode(e: unknown): string {
  return String((e as { code?: unknown })?.code ?? '');
}

/** Prefix a driver error with the row it failed on (and note the row for the rejection). */
function atRow(e: unknown, row: number): unknown {
  if (e instanceof Error) e.message = `row ${row}: ${e.message}`;
  tagLoadRow(e, row);
  return e;
}

/**
 * Column affinity from the declared type, by SQLite's own rules (datatype3.html §3.1): what
 * SQLite converts numeric values into, which is what the value check must know.
 */
export function affinityKind(declared: string): ColumnKind {
  const t = declared.toUpperCase();
  if (t.includes('INT')) return { kind: 'sqlite-numeric' };
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return { kind: 'other' };
  if (t.includes('BLOB') || t === '') return { kind: 'other' };
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return { kind: 'sqlite-real' };
  return { kind: 'sqlite-numeric' };
}

/** Declared types of the target's columns (`PRAGMA table_info`), matched case-insensitively like SQLite does. */
function columnKinds(db: BetterSqlite3.Database, t: CheckedTarget, names: readonly string[]): ColumnKind[] {
  const dot = t.table.indexOf('"."');
  const sql = dot < 0 ? `PRAGMA table_info(${t.table})` : `PRAGMA ${t.table.slice(0, dot + 1)}.table_info(${t.table.slice(dot + 2)})`;
  const info = db.prepare(sql).all() as Array<{ name: string; type: string }>;
  const byName = new Map(info.map((c) => [c.name.toLowerCase(), c.type]));
  return names.map((n) => {
    const type = byName.get(n.toLowerCase());
    return type === undefined ? { kind: 'other' } : affinityKind(type);
  });
}

async function load(db: BetterSqlite3.Database, t: CheckedTarget, rows: AsyncIterable<Value[]>, clock: WallClock): Promise<number> {
  if (t.replace) db.prepare(`DELETE FROM ${t.table} WHERE ${t.replace.column} = ?`).run(bindParam(t.replace.value));
  const width = t.columns.length;
  const tuple = `(${t.columns.map(() => '?').join(', ')})`;
  let conflict = '';
  if (t.mode === 'upsert') {
    const action = t.nonKey.length > 0 ? `UPDATE SET ${t.nonKey.map((c) => `${c} = excluded.${c}`).join(', ')}` : 'NOTHING';
    conflict = ` ON CONFLICT (${t.key.join(', ')}) DO ${action}`;
  }
  const insertSql = (count: number): string => `INSERT INTO ${t.table} (${t.columns.join(', ')}) VALUES ${Array(count).fill(tuple).join(', ')}${conflict}`;
  // SQLite allows 32766 variables per statement since 3.32.
  const perCall = Math.max(1, Math.min(ROWS_PER_STATEMENT, Math.floor(32766 / width)));
  const one = db.prepare(insertSql(1));
  const many = perCall > 1 ? db.prepare(insertSql(perCall)) : one;
  const args: SqliteBind[] = new Array<SqliteBind>(perCall * width);
  let filled = 0;
  let n = 0;

  /** Run `count` buffered rows that end at row `n`; on failure find the row one by one. */
  const flush = (count: number): void => {
    if (count === perCall) {
      try {
        many.run(args);
        return;
      } catch (e) {
        // A constraint error undid only this statement: replay the batch row by row so the error
        // names its row. Anything else (busy, disk full) may have rolled back the whole
        // transaction, and replaying would write outside it: rethrow.
        const code = sqliteCode(e);
        if (!db.inTransaction || !(code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH')) throw e;
      }
    }
    for (let r = 0; r < count; r++) {
      try {
        one.run(args.slice(r * width, (r + 1) * width));
      } catch (e) {
        throw atRow(e, n - count + r + 1);
      }
    }
  };

  for await (const row of rows) {
    n++;
    if (row.length !== width) throw rowShapeError(t, n, row.length);
    const base = filled * width;
    for (let i = 0; i < width; i++) args[base + i] = bind(row[i]!, clock);
    if (++filled === perCall) {
      flush(filled);
      filled = 0;
    }
  }
  if (filled > 0) flush(filled);
  return n;
}

/** The SQLite part of the ingest flow. */
export const sqliteIngest: IngestDialect = {
  dialect: 'sqlite',
  markerDdl: markerDdl('sqlite'),
  async open(trx: Knex.Transaction, zone: string): Promise<DialectSession> {
    const db = (await trx.client.acquireConnection()) as BetterSqlite3.Database;
    const clock = new WallClock(zone);
    let savedTimeout = 5000;
    return {
      exec: async (sql, params) => void db.prepare(sql).run(...params.map(bindParam)),
      // better-sqlite3 waits for a lock synchronously: keep the wait per attempt short so the
      // event loop keeps running; the ingest flow retries the transaction after a pause.
      beforeMarker: async () => {
        savedTimeout = Number(db.pragma('busy_timeout', { simple: true }));
        db.pragma(`busy_timeout = ${MARKER_BUSY_MS}`);
      },
      afterMarker: async () => void db.pragma(`busy_timeout = ${Math.trunc(savedTimeout)}`),
      load: (t, rows) => load(db, t, rows, clock),
      columnKinds: async (t, names) => columnKinds(db, t, names),
    };
  },
  isDriverError: (e) => e instanceof Error && sqliteCode(e).startsWith('SQLITE_'),
  isUniqueViolation: (e) => sqliteCode(e) === 'SQLITE_CONSTRAINT_PRIMARYKEY' || sqliteCode(e) === 'SQLITE_CONSTRAINT_UNIQUE',
  isLockConflict: (e) => sqliteCode(e).startsWith('SQLITE_BUSY') || sqliteCode(e).startsWith('SQLITE_LOCKED'),
  isMissingTable: (e) => e instanceof Error && /no such table/.test(e.message),
  // NOT NULL and CHECK constraints, a type mismatch (STRICT tables, INTEGER PRIMARY KEY): the file's
  // data, not the run. `NOT NULL constraint failed: t.col` names the column.
  dataError: (e) => {
    const code = sqliteCode(e);
    if (!['SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_CONSTRAINT_CHECK', 'SQLITE_MISMATCH'].includes(code)) return undefined;
    const message = (e as Error).message.replace(/^row \d+: /, '');
    const column = /NOT NULL constraint failed: (?:[^.\s]+\.)?(\S+)/.exec(message)?.[1];
    const row = loadRowOf(e);
    return { ...(row !== undefined ? { row } : {}), ...(column ? { column } : {}), message };
  },
  retryOnLockConflict: true,
};
