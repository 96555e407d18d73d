// Shared test helpers: server locations, unique names, and a normaliser that makes Values from
// different drivers comparable.
import { Decimal, Instant, LocalDate, WallTime } from '../../src/values.js';
import type { Value } from '../../src/values.js';
import { openDatabase } from '../../src/database/index.js';
import type { SourceDatabase } from '../../src/database/index.js';

/** Test servers; override with FERRY_TEST_PG / FERRY_TEST_MYSQL. */
export const PG_URL = process.env['FERRY_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env['FERRY_TEST_MYSQL'] ?? 'mysql://root@127.0.0.1:3306/test';

/** A table name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
}

export function openPg(): Promise<SourceDatabase> {
  return openDatabase({ name: 'pgtest', client: 'pg', connection: PG_URL, baseDir: '.' });
}
export function openMysql(): Promise<SourceDatabase> {
  return openDatabase({ name: 'mytest', client: 'mariadb', connection: MYSQL_URL, baseDir: '.' });
}

/** Why a server cannot be used, or undefined when it answers. */
export async function unavailable(open: () => Promise<SourceDatabase>): Promise<string | undefined> {
  const db = await open();
  try {
    await db.ping();
    return undefined;
  } catch (e) {
    return `server not reachable: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    await db.close();
  }
}

/**
 * One tagged string per cell. Integers, bigints, floats and Decimals share the `num:` tag because
 * every encoder writes their text the same way; the kinds that render differently keep their own.
 */
export function tag(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'bigint') return `num:${String(v)}`;
  if (v instanceof Decimal) return `num:${v.text}`;
  if (typeof v === 'string') return `str:${v}`;
  if (typeof v === 'boolean') return `bool:${v}`;
  if (v instanceof LocalDate) return `date:${v.text}`;
  if (v instanceof WallTime) return `wall:${v.text}`;
  if (v instanceof Instant) return `instant:${v.epochSeconds}${v.fraction ? '.' + v.fraction : ''}`;
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  return `other:${String(v)}`;
}

/** Read every row of a query as tagged strings. */
export async function readAll(db: SourceDatabase, sql: string, params: Record<string, string>, timezone: string): Promise<string[][]> {
  const rs = await db.query(sql, params, { timezone });
  const out: string[][] = [];
  for await (const row of rs.rows) out.push(row.map(tag));
  return out;
}
