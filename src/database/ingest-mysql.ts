/**
 * MySQL / MariaDB bulk path of ingest: multi-row `INSERT INTO t (cols) VALUES (…),(…)` text
 * statements on the ingest transaction's connection, each sized to stay under the server's
 * `max_allowed_packet` and under 60,000 values (below the protocol's 65,535 placeholders, in
 * case a statement is ever prepared). While the server runs one statement, the next is built.
 *
 * - upsert: `ON DUPLICATE KEY UPDATE col = VALUES(col)` for the non-key columns. MySQL applies the
 *   rows in order, so a key repeated in the file keeps its LAST row. MySQL ignores the configured
 *   key: a conflict on ANY unique index of the table updates that row, which is why the key
 *   columns themselves are never assigned.
 * - never `INSERT IGNORE`: it turns errors into warnings and coerces bad values.
 *
 * Session: `time_zone` = the config zone (the source side's helper, including its fixed-offset
 * fallback), strict mode ensured (a non-strict server would truncate too-long values and store
 * invalid ones as 0 with a warning) and `NO_BACKSLASH_ESCAPES` off (the literals here, mysql2's
 * placeholders and knex all escape with backslashes). Instants are written as wall time of the
 * session zone, which MySQL converts for TIMESTAMP columns and keeps as-is for DATETIME.
 */
import type { Knex } from 'knex';
import type { Connection } from 'mysql2';
import type { Value } from '../values.js';
import { loadRowOf, MARKER_LOCK_WAIT_SECONDS, markerDdl, rowShapeError, tagLoadRow, valueText, WallClock } from './ingest.js';
import type { CheckedTarget, DialectSession, IngestDialect } from './ingest.js';
import { intKind, type ColumnKind } from './load-values.js';
import type { BindValue } from './types.js';

/** At most this many values per statement (rows × columns). */
const MAX_VALUES = 60000;
/** Statements are kept at most this large even when the server allows more (measured sweet spot). */
const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;

function run(conn: Connection, sql: string, values: unknown[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.query(sql, values, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const errno = (e: unknown): number | undefined => (e as { errno?: number })?.errno;

/** A string literal for a session without NO_BACKSLASH_ESCAPES. */
function quote(s: string): string {
  if (!/['\\\0]/.test(s)) return `'${s}'`;
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\0/g, '\\0')}'`;
}

/** A Value as an SQL literal: text for everything exact, 1/0 for booleans, X'…' for bytes. */
function literal(v: Value, clock: WallClock): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'bigint') return String(v);
  // NaN and Infinity are no literals; as strings the server reports the bad value.
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : quote(String(v));
  if (v instanceof Uint8Array) return `X'${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}'`;
  // Decimals go as strings: the server converts '…' to DECIMAL/BIGINT exactly, and a string can
  // never be read as SQL whatever its text.
  return quote(valueText(v, (i) => clock.wall(i)));
}

const INT_BITS: Record<string, 8 | 16 | 24 | 32 | 64> = { tinyint: 8, smallint: 16, mediumint: 24, int: 32, integer: 32, bigint: 64 };

/** The target's column types from information_schema (the table's database, or the session's). */
async function columnKinds(conn: Connection, t: CheckedTarget, names: readonly string[]): Promise<ColumnKind[]> {
  const parts = t.name.split('.');
  const [schema, table] = parts.length === 2 ? [parts[0]!, parts[1]!] : [null, parts[0]!];
  const rows = (await run(
    conn,
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS type, COLUMN_TYPE AS full_type, NUMERIC_PRECISION AS p, NUMERIC_SCALE AS s ' +
      'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
    [schema, table],
  )) as Array<{ name: string; type: string; full_type: string; p: unknown; s: unknown }>;
  const byName = new Map(rows.map((r) => [String(r.name).toLowerCase(), r]));
  return names.map((n): ColumnKind => {
    const c = byName.get(n.toLowerCase());
    if (!c) return { kind: 'other' };
    const type = String(c.type).toLowerCase();
    const bits = INT_BITS[type];
    if (bits) return intKind(bits, /unsigned/i.test(String(c.full_type)));
    if (type === 'decimal' || type === 'numeric') return { kind: 'decimal', precision: Number(c.p), scale: Number(c.s) };
    if (type === 'float') return { kind: 'float', digits: 6 };
    if (type === 'double' || type === 'real') return { kind: 'float', digits: 15 };
    if (type === 'datetime') return { kind: 'timestamp' };
    if (type === 'timestamp') return { kind: 'timestamptz' };
    return { kind: 'other' };
  });
}

/**
 * Data errors of strict mode: NULL into NOT NULL (1048), out of range (1264), truncated (1265),
 * bad date/time or number text (1292, 1366, 1367), too long (1406), BIGINT overflow (1690), CHECK
 * failed (MySQL 3819, MariaDB 4025).
 */
const DATA_ERRNOS = new Set([1048, 1264, 1265, 1292, 1366, 1367, 1406, 1690, 3819, 4025]);

/** What {@link mysqlIngest} needs from the adapter. */
export interface MysqlSessionHooks {
  /** Set the session `time_zone` for the config zone; returns the setting used (zone or `±HH:MM`). */
  setZone(conn: Connection, zone: string): Promise<string>;
}

async function load(conn: Connection, t: CheckedTarget, rows: AsyncIterable<Value[]>, clock: WallClock, maxPacket: number): Promise<number> {
  if (t.replace) await run(conn, `DELETE FROM ${t.table} WHERE ${t.replace.column} = ?`, [t.replace.value]);
  const width = t.columns.length;
  const head = `INSERT INTO ${t.table} (${t.columns.join(', ')}) VALUES `;
  let tail = '';
  if (t.mode === 'upsert') {
    // With only key columns there is nothing to update; `k = k` keeps the row and the statement valid.
    const sets = t.nonKey.length > 0 ? t.nonKey.map((c) => `${c} = VALUES(${c})`) : [`${t.key[0]} = ${t.key[0]}`];
    tail = ` ON DUPLICATE KEY UPDATE ${sets.join(', ')}`;
  }
  const maxRows = Math.max(1, Math.floor(MAX_VALUES / width));
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so chars × 3 bounds the bytes without encoding.
  const budget = Math.min(maxPacket - 64 * 1024, MAX_STATEMENT_BYTES) - 3 * (head.length + tail.length);
  const maxChars = Math.max(1, Math.floor(budget / 3));

  let n = 0;
  let parts: string[] = [];
  let chars = 0;
  let firstRow = 1;
  let pending: Promise<void> | undefined;
  const send = async (): Promise<void> => {
    const sql = head + parts.join(',') + tail;
    const from = firstRow;
    const to = n;
    parts = [];
    chars = 0;
    firstRow = n + 1;
    // One statement in flight: wait for the previous before sending, so memory stays bounded
    // and a failure stops the load at once.
    if (pending) await pending;
    pending = run(conn, sql).then(
      () => undefined,
      (e: unknown) => {
        // The server's "at row k" counts within the statement; say which rows it held.
        if (e instanceof Error) {
          const k = /at row (\d+)/.exec(e.message);
          if (k) tagLoadRow(e, from + Number(k[1]) - 1);
          e.message += ` (in rows ${from}-${to} of the load)`;
        }
        throw e;
      },
    );
    pending.catch(() => undefined);
  };
  try {
    for await (const row of rows) {
      if (row.length !== width) throw rowShapeError(t, n + 1, row.length);
      let text = '(' + literal(row[0]!, clock);
      for (let i = 1; i < width; i++) text += ',' + literal(row[i]!, clock);
      text += ')';
      if (parts.length > 0 && (parts.length >= maxRows || chars + text.length + 1 > maxChars)) await send();
      n++;
      parts.push(text);
      chars += text.length + 1;
    }
    if (parts.length > 0) await send();
    if (pending) await pending;
  } finally {
    // Never leave a statement running behind the caller's back (its ROLLBACK would queue after it).
    if (pending) await pending.catch(() => undefined);
  }
  return n;
}

/** The MySQL / MariaDB part of the ingest flow. */
export function mysqlIngest(hooks: MysqlSessionHooks): IngestDialect {
  return {
    dialect: 'mysql',
    markerDdl: markerDdl('mysql'),
    async open(trx: Knex.Transaction, zone: string): Promise<DialectSession> {
      const conn = (await trx.client.acquireConnection()) as Connection;
      const clock = new WallClock(await hooks.setZone(conn, zone));
      const info = ((await run(conn, 'SELECT @@max_allowed_packet AS p, @@session.sql_mode AS m')) as Record<string, unknown>[])[0]!;
      const maxPacket = Number(String(info['p']));
      const modes = String(info['m'] ?? '')
        .split(',')
        .filter((m) => m !== '');
      let wanted = modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES');
      if (!wanted.includes('STRICT_TRANS_TABLES') && !wanted.includes('STRICT_ALL_TABLES')) wanted = [...wanted, 'STRICT_ALL_TABLES'];
      if (wanted.join(',') !== modes.join(',')) await run(conn, 'SET SESSION sql_mode = ?', [wanted.join(',')]);
      const exec = async (sql: string, params: BindValue[]): Promise<void> => void (await run(conn, sql, params));
      return {
        exec,
        // InnoDB's default 50 s lock wait would fail a second run long before a big first run
        // commits; for the marker statement wait as long as the other dialects do.
        beforeMarker: () =>
          exec(`SET @ferry_lock_wait = @@session.innodb_lock_wait_timeout, SESSION innodb_lock_wait_timeout = ${MARKER_LOCK_WAIT_SECONDS}`, []),
        afterMarker: () => exec('SET SESSION innodb_lock_wait_timeout = @ferry_lock_wait', []),
        load: (t, rows) => load(conn, t, rows, clock, maxPacket),
        columnKinds: (t, names) => columnKinds(conn, t, names),
      };
    },
    // mysql2 server errors carry the SQLSTATE; connection errors a fatal flag.
    isDriverError: (e) => e instanceof Error && (typeof (e as { sqlState?: unknown }).sqlState === 'string' || (e as { fatal?: unknown }).fatal === true),
    // ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
    isUniqueViolation: (e) => errno(e) === 1062 || errno(e) === 1586,
    // ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK
    isLockConflict: (e) => errno(e) === 1205 || errno(e) === 1213,
    // ER_NO_SUCH_TABLE
    isMissingTable: (e) => errno(e) === 1146,
    dataError: (e) => {
      const n = errno(e);
      if (n === undefined || !DATA_ERRNOS.has(n)) return undefined;
      const message = (e as Error).message.replace(/ \(in rows \d+-\d+ of the load\)$/, '');
      // 'x', or `db`.`table`.`x` (MariaDB), or "Column 'x' cannot be null".
      const column = /for column (?:[`'][^`']*[`']\.)*[`']([^`']+)[`']/.exec(message)?.[1] ?? /^Column '([^']+)' cannot be null/.exec(message)?.[1];
      const row = loadRowOf(e);
      return { ...(row !== undefined ? { row } : {}), ...(column ? { column } : {}), message };
    },
  };
}
