/**
 * The same job over the same data gives byte-identical files on SQLite, PostgreSQL (general path
 * and COPY fast path) and MariaDB — in every format. Real servers on loopback.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { runFerry, sqliteFromSql, tempProject, type TempProject } from '../helpers/project.js';

import { MYSQL_URL, PG_URL, SKIP_MYSQL, SKIP_PG } from '../helpers/servers.js';

const skip = SKIP_PG || SKIP_MYSQL;

const suffix = `${process.pid}_${Date.now().toString(36)}`;
const PG_SCHEMA = `ferry_xdb_${suffix}`;
const MY_TABLE = `ferry_xdb_${suffix}`;

// Rows that hurt: quotes, delimiters, newlines, Korean, emoji, NULL vs '', huge and negative
// decimals, a bigint beyond 2^53, microseconds, times next to midnight.
const ROWS: Array<[number, string | null, string, string, boolean | null, string, string, string, number]> = [
  [1, '홍길동', '15000.00', '9007199254740993', true, '2026-11-20', '2026-11-20 00:00:00', '2026-11-19 15:00:00+00', 0.1],
  [2, 'Kim, "Jay"\nline two', '-12345678901234567.89', '-1', false, '2026-11-20', '2026-11-20 23:59:59.123456', '2026-11-20 14:59:59.5+00', -2.5],
  [3, null, '0.00', '0', null, '2026-02-28', '2026-11-20 12:00:00.000100', '2026-11-20 03:00:00+00', 1e-7],
  [4, '', '0.10', '42', true, '1999-12-31', '2026-11-20 09:30:00', '2026-11-19 23:30:00+00', 12345.678],
  [5, '😀 emoji | pipe\ttab', '99999999999999999.99', '123456789012345678', false, '2026-11-20', '2026-11-20 18:00:00', '2026-11-20 09:00:00.25+00', 0],
  [6, 'outside the day', '1.00', '1', true, '2026-11-21', '2026-11-21 00:00:00', '2026-11-21 00:00:00+00', 1],
];

function literal(v: string | number | boolean | null, dialect: 'pg' | 'mysql' | 'sqlite'): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return dialect === 'pg' ? String(v) : v ? '1' : '0';
  if (typeof v === 'number') return String(v);
  const s = v.replace(/'/g, "''");
  return dialect === 'mysql' ? `'${s.replace(/\\/g, '\\\\')}'` : `'${s}'`;
}

function inserts(table: string, dialect: 'pg' | 'mysql' | 'sqlite'): string[] {
  return ROWS.map((r) => {
    const vals = r.map((v, i) => {
      // MariaDB TIMESTAMP literals are read in the session zone (UTC below) and take no offset.
      if (i === 7 && dialect !== 'pg') return literal((v as string).replace('+00', dialect === 'sqlite' ? 'Z' : ''), dialect);
      return literal(v, dialect);
    });
    return `insert into ${table} values (${vals.join(', ')});`;
  });
}

// Floats are not eligible for the COPY fast path (PostgreSQL and JavaScript print them
// differently), so the csv cases leave `ratio` out to exercise COPY; kv and jsonl keep it.
const SELECT = (table: string, withFloat: boolean) =>
  `select id, name, amount, big, flag, day, wall, instant${withFloat ? ', ratio' : ''} from ${table} where wall >= :from and wall < :to order by id`;

const FORMATS: Record<string, string> = {
  csv: `{ type: 'csv' }`,
  csvtab: `{ type: 'csv', delimiter: '\\t', lineEnding: 'crlf', encoding: 'utf-8-bom' }`,
  kv: `{ type: 'kv' }`,
  jsonl: `{ type: 'jsonl' }`,
};

function job(conn: string, table: string, format: string, withFloat: boolean, extra = ''): string {
  return `import { defineExport } from 'ferry';
export default defineExport({
  source: { connection: '${conn}', sql: ${JSON.stringify(SELECT(table, withFloat))} ${extra} },
  format: ${format},
  file: { name: 'out_{job}.txt' },
  deliver: [{ connection: 'out', dir: '.', mkdir: true }],
});
`;
}

describe('byte-identical exports on SQLite, PostgreSQL and MariaDB', { skip }, () => {
  let p: TempProject;
  let pg: Knex;
  let my: Knex;

  before(async () => {
    pg = knexFactory({ client: 'pg', connection: PG_URL });
    my = knexFactory({ client: 'mysql2', connection: MYSQL_URL });
    await pg.raw(`create schema ${PG_SCHEMA}`);
    await pg.raw(`create table ${PG_SCHEMA}.t (id int primary key, name text, amount numeric(20,2), big bigint, flag boolean,
      day date, wall timestamp(6), instant timestamptz(6), ratio double precision)`);
    await pg.raw(`set time zone 'UTC'; ${inserts(`${PG_SCHEMA}.t`, 'pg').join('\n')}`);
    await my.raw(`create table ${MY_TABLE} (id int primary key, name text, amount decimal(20,2), big bigint, flag boolean,
      day date, wall datetime(6), instant timestamp(6) null, ratio double) character set utf8mb4`);
    await my.raw(`set time_zone = '+00:00'`);
    for (const stmt of inserts(MY_TABLE, 'mysql')) await my.raw(stmt);

    p = tempProject({
      'ferry.config.ts': `import { defineConfig } from 'ferry';
export default defineConfig({
  timezone: 'Asia/Seoul',
  connections: {
    lite: { type: 'database', client: 'sqlite', connection: 'shop.sqlite' },
    pg: { type: 'database', client: 'pg', connection: ${JSON.stringify(PG_URL)} },
    maria: { type: 'database', client: 'mysql', connection: ${JSON.stringify(MYSQL_URL)} },
    out: { type: 'local', root: 'out' },
  },
});`,
    });
    sqliteFromSql(
      p.path('shop.sqlite'),
      `create table t (id integer primary key, name text, amount text, big integer, flag boolean, day date, wall datetime, instant timestamptz, ratio real);
       ${inserts('t', 'sqlite').join('\n')}`,
    );
    for (const [fname, fmt] of Object.entries(FORMATS)) {
      const withFloat = !fname.startsWith('csv');
      // SQLite keeps money as text (it has no exact decimal), so that job declares the type.
      const cols = `['id','name',{ name: 'amount', type: 'decimal' },'big','flag','day','wall','instant'${withFloat ? ",'ratio'" : ''}]`;
      p.write(`jobs/lite-${fname}.ts`, job('lite', 't', fmt.replace('{ type', `{ columns: ${cols}, type`), withFloat));
      p.write(`jobs/pg-${fname}.ts`, job('pg', `${PG_SCHEMA}.t`, fmt, withFloat));
      p.write(`jobs/pgslow-${fname}.ts`, job('pg', `${PG_SCHEMA}.t`, fmt, withFloat, ', fastPath: false'));
      p.write(`jobs/maria-${fname}.ts`, job('maria', MY_TABLE, fmt, withFloat));
    }
  });

  after(async () => {
    await pg?.raw(`drop schema if exists ${PG_SCHEMA} cascade`).catch(() => undefined);
    await my?.raw(`drop table if exists ${MY_TABLE}`).catch(() => undefined);
    await pg?.destroy();
    await my?.destroy();
    p?.remove();
  });

  for (const fname of Object.keys(FORMATS)) {
    test(`${fname}: same bytes from every database and both PostgreSQL paths`, async () => {
      const jobs = ['lite', 'pg', 'pgslow', 'maria'].map((d) => `${d}-${fname}`);
      const r = await runFerry(p.dir, ['--json', 'run', ...jobs, '--date', '2026-11-20']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const results = (JSON.parse(r.stdout) as { results: Array<{ job: string; rows: number; fastPath: boolean }> }).results;
      for (const res of results) assert.equal(res.rows, 5, res.job);
      if (fname === 'csv' || fname === 'csvtab') assert.equal(results.find((x) => x.job === `pg-${fname}`)!.fastPath, true, 'PostgreSQL used COPY');
      assert.equal(results.find((x) => x.job === `pgslow-${fname}`)!.fastPath, false);
      const files = jobs.map((j) => readFileSync(p.path(`out/out_${j}.txt`)));
      const reference = files[0]!.toString('utf8');
      for (let i = 1; i < files.length; i++) assert.equal(files[i]!.toString('utf8'), reference, `${jobs[i]} differs from ${jobs[0]}`);
      for (let i = 1; i < files.length; i++) assert.ok(files[i]!.equals(files[0]!), `${jobs[i]} bytes`);
      if (fname === 'csv') {
        assert.equal(
          reference,
          [
            'id,name,amount,big,flag,day,wall,instant',
            '1,홍길동,15000.00,9007199254740993,true,2026-11-20,2026-11-20T00:00:00+09:00,2026-11-20T00:00:00+09:00',
            '2,"Kim, ""Jay""\nline two",-12345678901234567.89,-1,false,2026-11-20,2026-11-20T23:59:59.123456+09:00,2026-11-20T23:59:59.5+09:00',
            '3,,0.00,0,,2026-02-28,2026-11-20T12:00:00.0001+09:00,2026-11-20T12:00:00+09:00',
            '4,"",0.10,42,true,1999-12-31,2026-11-20T09:30:00+09:00,2026-11-20T08:30:00+09:00',
            '5,😀 emoji | pipe\ttab,99999999999999999.99,123456789012345678,false,2026-11-20,2026-11-20T18:00:00+09:00,2026-11-20T18:00:00.25+09:00',
            '',
          ].join('\n'),
        );
      }
      if (fname === 'jsonl') assert.match(reference, /"ratio":1e-7\}/);
    });
  }
});
