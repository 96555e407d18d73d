// Shared test helpers: server locations, unique names, and a normaliser that makes Values from
// different drivers comparable.
import { Decimal, Instant, LocalDate, WallTime } from '../../src/values.js';
import type { Value } from '../../src/values.js';
import { openDatabase } from '../../src/database/index.js';
import type { SourceDatabase } from '../../src/database/index.js';

import { MYSQL_URL, PG_URL, SKIP_MYSQL, SKIP_PG } from '../helpers/servers.js';
export { MYSQL_URL, PG_URL };

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

/**
 * Why the tests of a server are left out (only when asked with `skip`), or undefined. An
 * unreachable server throws: CI must not pass by skipping the integration tests.
 */
export async function unavailable(open: () => Promise<SourceDatabase>): Promise<string | undefined> {
  if (open === openPg && SKIP_PG) return SKIP_PG;
  if (open === openMysql && SKIP_MYSQL) return SKIP_MYSQL;
  const db = await open();
  try {
    await db.ping();
    return undefined;
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
