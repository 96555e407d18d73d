/**
 * PostgreSQL bulk path of ingest: `COPY … FROM STDIN (FORMAT csv)` through pg-copy-streams on
 * the ingest transaction's own connection, fed by CSV that ferry writes itself.
 *
 * - insert / replace: COPY straight into the target (see `STAGE_INSERTS` for why not a stage);
 * - upsert: COPY into a temporary stage `(row number, target columns)` that is dropped at commit,
 *   then one `INSERT … SELECT DISTINCT ON (key) … ORDER BY key, row DESC … ON CONFLICT (key) DO
 *   UPDATE`. A key repeated in the file keeps its LAST row (a single statement may not touch a row
 *   twice: "ON CONFLICT DO UPDATE command cannot affect row a second time"), and the surviving
 *   rows are inserted in file order.
 *
 * CSV written here quotes every non-null value and leaves NULL as an empty unquoted field, which
 * is COPY's CSV default for NULL, so `''` and NULL stay apart. Values are written as the text
 * PostgreSQL parses exactly: decimals and int8 as digits, Instants as UTC ISO text with `Z`,
 * wall times as `yyyy-MM-dd HH:mm:ss.ffffff`, bytes as `\x…` hex.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Value } from '../values.js';
import { checkZone } from './convert.js';
import { instantIso, markerDdl, rowShapeError, valueText } from './ingest.js';
import type { CheckedTarget, DialectSession, IngestDialect } from './ingest.js';
import { intKind, type ColumnKind } from './load-values.js';

/**
 * Insert and replace loads COPY directly into the target table when false. A stage would add a
 * second full write of every row (200,000 rows × 5 columns measured 1.3–1.6× slower staged)
 * and buys nothing for a plain insert: COPY checks the same constraints, fires the same row
 * triggers, and its errors even name the row and column. Only targets that COPY cannot fill
 * (views with INSTEAD OF rules) would need the stage; set to true to always stage.
 */
const STAGE_INSERTS = false;

/** CSV chunk size handed to the COPY stream (characters). */
const CHUNK = 64 * 1024;

function sqlState(e: unknown): string | undefined {
  return (e as { code?: unknown })?.code as string | undefined;
}

/** One CSV field: NULL empty and unquoted, every other value quoted with `"` doubled. */
function csvField(v: Value): string {
  if (v === null) return '';
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'boolean') return v ? '"true"' : '"false"';
  else if (v instanceof Uint8Array) return `"\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}"`;
  else s = valueText(v, instantIso);
  return s.includes('"') ? `"${s.replace(/"/g, '""')}"` : `"${s}"`;
}

/**
 * Stream `rows` as CSV into `COPY … FROM STDIN`. With `numbered`, each line starts with the row
 * number (1-based) for the stage's order column. Memory stays flat: the generator produces one
 * chunk at a time and pipeline() waits for the socket to drain. Returns the rows read.
 */
async function copyRows(client: Client, sql: string, rows: AsyncIterable<Value[]>, t: CheckedTarget, numbered: boolean): Promise<number> {
  const width = t.columns.length;
  let n = 0;
  async function* csv(): AsyncGenerator<string> {
    let buf = '';
    for await (const row of rows) {
      n++;
      if (row.length !== width) throw rowShapeError(t, n, row.length);
      let line = numbered ? `${n},` : '';
      line += csvField(row[0]!);
      for (let i = 1; i < width; i++) line += ',' + csvField(row[i]!);
      buf += line + '\n';
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  }
  // On an error of either side pipeline() destroys the COPY stream, which sends CopyFail: the
  // server ends the COPY and the connection stays usable for the ROLLBACK.
  await pipeline(Readable.from(csv(), { objectMode: false }), client.query(copyFrom(sql)));
  return n;
}

/** A column name for the stage's row number that is not one of the target's columns. */
function rowColumn(t: CheckedTarget): string {
  let name = '"ferry_row"';
  for (let i = 1; t.columns.includes(name); i++) name = `"ferry_row_${i}"`;
  return name;
}

async function load(client: Client, t: CheckedTarget, rows: AsyncIterable<Value[]>, stageNo: number): Promise<number> {
  if (t.replace) await client.query(`DELETE FROM ${t.table} WHERE ${t.replace.column} = $1`, [t.replace.value]);
  const cols = t.columns.join(', ');
  if (t.mode !== 'upsert' && !STAGE_INSERTS) {
    return copyRows(client, `COPY ${t.table} (${cols}) FROM STDIN WITH (FORMAT csv)`, rows, t, false);
  }
  // The stage has the target columns' exact types (lengths and scales too, so "value too long"
  // surfaces during COPY with its row number) but none of its constraints or defaults.
  const stage = `"ferry_stage_${stageNo}"`;
  const rowCol = rowColumn(t);
  await client.query(`CREATE TEMP TABLE ${stage} ON COMMIT DROP AS SELECT 0::bigint AS ${rowCol}, ${cols} FROM ${t.table} WITH NO DATA`);
  const n = await copyRows(client, `COPY ${stage} (${rowCol}, ${cols}) FROM STDIN WITH (FORMAT csv)`, rows, t, true);
  if (t.mode === 'upsert') {
    const key = t.key.join(', ');
    const action = t.nonKey.length > 0 ? `UPDATE SET ${t.nonKey.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : 'NOTHING';
    await client.query(
      `INSERT INTO ${t.table} (${cols}) SELECT ${cols} FROM ` +
        `(SELECT DISTINCT ON (${key}) * FROM ${stage} ORDER BY ${key}, ${rowCol} DESC) AS last_rows ORDER BY ${rowCol} ` +
        `ON CONFLICT (${key}) DO ${action}`,
    );
  } else {
    await client.query(`INSERT INTO ${t.table} (${cols}) SELECT ${cols} FROM ${stage} ORDER BY ${rowCol}`);
  }
  // Free the temp buffers now rather than at commit (a job may load several files' worth).
  await client.query(`DROP TABLE ${stage}`);
  return n;
}

/**
 * The target's column types from the catalog, resolved the way COPY resolves the table name
 * (`regclass`: search_path, quoting). A domain is described by its base type and typmod.
 */
async function columnKinds(client: Client, t: CheckedTarget, names: readonly string[]): Promise<ColumnKind[]> {
  const res = await client.query<{ name: string; type: string; typmod: number }>(
    `SELECT a.attname AS name, b.typname AS type, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod ` +
      `FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid ` +
      `JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END ` +
      `WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
    [t.table],
  );
  const byName = new Map(res.rows.map((r) => [r.name, r]));
  return names.map((n) => {
    const c = byName.get(n);
    return c ? pgKind(c.type, Number(c.typmod)) : { kind: 'other' };
  });
}

function pgKind(type: string, typmod: number): ColumnKind {
  switch (type) {
    case 'int2':
      return intKind(16);
    case 'int4':
      return intKind(32);
    case 'int8':
      return intKind(64);
    case 'numeric':
      // typmod = ((precision << 16) | scale) + 4; the scale is an 11-bit signed number since PG 15.
      if (typmod < 4) return { kind: 'decimal', scale: 16383 };
      return { kind: 'decimal', precision: ((typmod - 4) >> 16) & 0xffff, scale: (((typmod - 4) & 0x7ff) ^ 0x400) - 0x400 };
    case 'float4':
      return { kind: 'float', digits: 6 };
    case 'float8':
      return { kind: 'float', digits: 15 };
    case 'timestamp':
      return { kind: 'timestamp' };
    case 'timestamptz':
      return { kind: 'timestamptz' };
    default:
      return { kind: 'other' };
  }
}

/** `?` placeholders (ferry's own marker SQL, which has no other `?`) as `$1…$n`. */
function dollarParams(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/** The PostgreSQL part of the ingest flow. */
export const pgIngest: IngestDialect = {
  dialect: 'pg',
  markerDdl: markerDdl('pg'),
  async open(trx: Knex.Transaction, zone: string): Promise<DialectSession> {
    const client = (await trx.client.acquireConnection()) as Client;
    // SET LOCAL: the same session setup as the source side, but only for this transaction, so
    // text timestamps (e.g. in a job's own SQL) are read in the config zone and the pooled
    // connection goes back unchanged.
    await client.query(
      `SET LOCAL TIME ZONE '${checkZone(zone)}'; SET LOCAL datestyle = 'ISO, YMD'; SET LOCAL intervalstyle = 'postgres'; ` +
        `SET LOCAL bytea_output = 'hex'; SET LOCAL standard_conforming_strings = on`,
    );
    let stages = 0;
    return {
      exec: async (sql, params) => void (await client.query(dollarParams(sql), params)),
      load: (t, rows) => load(client, t, rows, ++stages),
      columnKinds: (t, names) => columnKinds(client, t, names),
    };
  },
  // pg's server errors carry a severity and a five-character SQLSTATE.
  isDriverError: (e) => e instanceof Error && typeof (e as { severity?: unknown }).severity === 'string',
  isUniqueViolation: (e) => sqlState(e) === '23505',
  // lock_not_available (lock_timeout), deadlock_detected
  isLockConflict: (e) => sqlState(e) === '55P03' || sqlState(e) === '40P01',
  isMissingTable: (e) => sqlState(e) === '42P01',
  // Class 22 (data exception: out of range, invalid text, NUL, too long), not-null and check
  // violations. COPY says where: `COPY t, line 3, column amt: "…"`, the line being the load's row.
  dataError: (e) => {
    const state = sqlState(e) ?? '';
    if (!state.startsWith('22') && state !== '23502' && state !== '23514') return undefined;
    const x = e as Error & { where?: string; column?: string; detail?: string };
    const at = x.where ? /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(x.where) : null;
    const column = at?.[2] ?? x.column;
    return { ...(at ? { row: Number(at[1]) } : {}), ...(column ? { column } : {}), message: x.detail ? `${x.message} (${x.detail})` : x.message };
  },
  // Two sessions creating the table at once: duplicate pg_type row or duplicate table.
  isCreateRace: (e) => sqlState(e) === '23505' || sqlState(e) === '42P07',
};
