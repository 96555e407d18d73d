/**
 * The benchmark data: the same ten mixed columns in PostgreSQL and in a SQLite file, with two
 * business days in one table: a big day (1,000,000 rows by default) and a small day (a tenth of
 * it). Exporting both days with the same job shows whether memory grows with the row count.
 *
 * Values are chosen to exercise the encoder, not to be pretty: text with commas, quotes and
 * Korean (quoting and UTF-8), exact decimals longer than a double holds, NULLs and empty strings
 * (which CSV must tell apart), fractional seconds on the PostgreSQL timestamps.
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';

export const ZONE = 'Asia/Seoul';

export interface Day {
  date: string;
  rows: number;
  /** First id of the day; ids are consecutive. */
  first: number;
}

export interface Dataset {
  big: Day;
  small: Day;
}

export function dataset(bigRows: number): Dataset {
  const smallRows = Math.max(1, Math.round(bigRows / 10));
  return {
    big: { date: '2026-11-20', rows: bigRows, first: 1 },
    small: { date: '2026-11-21', rows: smallRows, first: bigRows + 1 },
  };
}

/** Next calendar day of a `yyyy-MM-dd` date (for the literal bounds of the native queries). */
export function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export const COLUMNS = 'id, name, qty, amount, ratio, paid, day, ts, local_ts, note';

/** The column types ferry's pg adapter reports for the table (used to rebuild its COPY text). */
export const PG_SOURCE_COLUMNS = [
  { name: 'id', type: 'int' },
  { name: 'name', type: 'string' },
  { name: 'qty', type: 'int' },
  { name: 'amount', type: 'decimal' },
  { name: 'ratio', type: 'decimal' },
  { name: 'paid', type: 'bool' },
  { name: 'day', type: 'date' },
  { name: 'ts', type: 'timestamptz' },
  { name: 'local_ts', type: 'timestamp' },
  { name: 'note', type: 'string' },
] as const;

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export const PG_SCHEMA = 'ferry_bench';
export const PG_TABLE = `${PG_SCHEMA}.export_rows`;

/**
 * Stored as the table comment. A table is reused only when its comment matches, so changing the
 * generator (bump v1) or the row count never benchmarks stale data.
 */
function pgDataVersion(ds: Dataset): string {
  return `ferry bench data v1: ${ds.big.rows} rows on ${ds.big.date}, ${ds.small.rows} on ${ds.small.date}, zone ${ZONE}`;
}

/** The job's query (ferry binds :from/:to as local wall times; the session zone is the config's). */
export const PG_JOB_SQL = `select ${COLUMNS} from ${PG_TABLE} where ts >= :from and ts < :to order by id`;

/** The same query with the literal day bounds, for psql (run with PGTZ set to the same zone). */
export function pgLiteralSql(day: Day): string {
  return `select ${COLUMNS} from ${PG_TABLE} where ts >= '${day.date} 00:00:00' and ts < '${nextDay(day.date)} 00:00:00' order by id`;
}

function pgInsertDay(day: Day): string {
  const last = day.first + day.rows - 1;
  // Rows are spread evenly over the business day in the config zone: row n is at
  // start + n * (86400 s / rows). Dividing the interval first keeps the step exact in microseconds.
  const start = `('${day.date} 00:00:00'::timestamp at time zone '${ZONE}')`;
  const ts = `${start} + (id - ${day.first}) * (interval '86400 seconds' / ${day.rows})`;
  return `
insert into ${PG_TABLE}
select id,
  case id % 10 when 0 then 'Kim, "Jay" ' || id when 1 then '홍길동 상점 ' || id when 2 then 'a,b;c ' || id else 'customer ' || id end,
  (id * 7919 % 100000)::int - 50000,
  ((id * 7907 % 10000000) / 100.0)::numeric(18,2),
  123456789012 + trunc(id::numeric / 7, 15),
  id % 3 = 0,
  date '${day.date}' - (id % 365)::int,
  ${ts},
  (${ts}) at time zone '${ZONE}',
  case id % 5 when 0 then null when 1 then '' else 'note ' || id end
from generate_series(${day.first}::bigint, ${last}) as id;`;
}

function pgCreateSql(ds: Dataset): string {
  // No index on ts: both days are read by a scan in id order, the cheapest plan for every
  // client, so the native baseline is not slowed by a sort that ferry would share.
  return `
drop table if exists ${PG_TABLE};
create schema if not exists ${PG_SCHEMA};
create table ${PG_TABLE} (
  id bigint not null, name text, qty int, amount numeric(18,2), ratio numeric, paid boolean,
  day date, ts timestamptz, local_ts timestamp, note text);
${pgInsertDay(ds.big)}
${pgInsertDay(ds.small)}
alter table ${PG_TABLE} add primary key (id);
comment on table ${PG_TABLE} is '${pgDataVersion(ds)}';`;
}

export interface PgSetup {
  reused: boolean;
  seconds: number;
  server: string;
}

function pgClient(url: string): pg.Client {
  return new pg.Client({ connectionString: url });
}

/**
 * Create and fill the table, or reuse it when a previous run (FERRY_BENCH_KEEP=1) left one with
 * the same data version and row count: generating 1.1 M rows costs about 10 s on 2 cores.
 */
export async function setupPg(url: string, ds: Dataset): Promise<PgSetup> {
  const started = Date.now();
  const c = pgClient(url);
  await c.connect();
  try {
    const server = String((await c.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]?.v ?? '?');
    const found = await c.query<{ comment: string | null }>(`select obj_description(to_regclass($1), 'pg_class') as comment`, [PG_TABLE]);
    let reused = false;
    if (found.rows[0]?.comment === pgDataVersion(ds)) {
      const n = await c.query<{ n: string }>(`select count(*) as n from ${PG_TABLE}`);
      reused = Number(n.rows[0]?.n) === ds.big.rows + ds.small.rows;
    }
    if (!reused) await c.query(pgCreateSql(ds));
    // VACUUM sets hint bits and the visibility map, so the first timed reader does not pay for
    // writing them; ANALYZE gives the planner real statistics. Both are cheap on reuse.
    await c.query(`vacuum (analyze) ${PG_TABLE}`);
    // Warm the OS cache and shared buffers: otherwise the first case of the first repetition
    // would read from disk and the others would not.
    await c.query(`select sum(length(t::text)) from ${PG_TABLE} t`);
    return { reused, seconds: (Date.now() - started) / 1000, server };
  } finally {
    await c.end();
  }
}

export async function dropPg(url: string): Promise<void> {
  const c = pgClient(url);
  await c.connect();
  try {
    await c.query(`drop schema if exists ${PG_SCHEMA} cascade`);
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------
// SQLite

export const SQLITE_TABLE = 'export_rows';

export const SQLITE_JOB_SQL = `select ${COLUMNS} from ${SQLITE_TABLE} where ts >= :from and ts < :to order by id`;

/** SQLite compares the text timestamps, so the literal bounds are the same text ferry binds. */
export function sqliteLiteralSql(day: Day): string {
  return `select ${COLUMNS} from ${SQLITE_TABLE} where ts >= '${day.date} 00:00:00' and ts < '${nextDay(day.date)} 00:00:00' order by id`;
}

function sqliteInsertDay(day: Day): string {
  const last = day.first + day.rows - 1;
  const ts = `datetime('${day.date} 00:00:00', '+' || ((id - ${day.first}) * 86400 / ${day.rows}) || ' seconds')`;
  // Decimals are written as text with the same digits as the PostgreSQL table: printf keeps them
  // exact, where arithmetic in SQLite would go through doubles.
  return `
insert into ${SQLITE_TABLE}
with recursive s(id) as (select ${day.first} union all select id + 1 from s where id < ${last})
select id,
  case id % 10 when 0 then 'Kim, "Jay" ' || id when 1 then '홍길동 상점 ' || id when 2 then 'a,b;c ' || id else 'customer ' || id end,
  (id * 7919 % 100000) - 50000,
  printf('%d.%02d', (id * 7907 % 10000000) / 100, (id * 7907 % 10000000) % 100),
  printf('%d.%015d', 123456789012 + id / 7, ((id % 7) * 1000000000000000) / 7),
  id % 3 = 0,
  date('${day.date}', '-' || (id % 365) || ' days'),
  ${ts},
  ${ts},
  case id % 5 when 0 then null when 1 then '' else 'note ' || id end
from s;`;
}

/**
 * The SQLite script for the sqlite3 shell. Declared types are what ferry reads to type the
 * values: DATETIME/TIMESTAMP → timestamp, DATE, BOOLEAN, and `DECIMAL TEXT`, which ferry reads as
 * decimal while SQLite gives the column TEXT affinity; plain DECIMAL has NUMERIC affinity and
 * would turn '123456789012.142857142857142' into a double with 15 significant digits.
 */
function sqliteCreateSql(ds: Dataset): string {
  return `
pragma journal_mode = off;
pragma synchronous = off;
create table ${SQLITE_TABLE} (
  id integer primary key, name text, qty integer, amount decimal text, ratio decimal text,
  paid boolean, day date, ts datetime, local_ts timestamp, note text);
begin;
${sqliteInsertDay(ds.big)}
${sqliteInsertDay(ds.small)}
commit;
`;
}

/** Generate the SQLite file with the sqlite3 shell (the same tool that is the native baseline). */
export function setupSqlite(file: string, ds: Dataset): { seconds: number; version: string } {
  const started = Date.now();
  const r = spawnSync('sqlite3', ['-bail', file], { input: sqliteCreateSql(ds), encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`sqlite3 could not create the bench database: ${r.error?.message ?? r.stderr}`);
  const v = spawnSync('sqlite3', ['--version'], { encoding: 'utf8' });
  return { seconds: (Date.now() - started) / 1000, version: (v.stdout ?? '').split(' ')[0] ?? '?' };
}
