/**
 * Import jobs loading into real PostgreSQL and MariaDB through bin/ferry: the same file gives the
 * same rows as on SQLite, a rejected file leaves the table untouched, and `replace` swaps a day.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { runFerry, tempProject, type TempProject } from '../helpers/project.js';
import { MYSQL_URL, PG_URL, SKIP_MYSQL, SKIP_PG } from '../helpers/servers.js';

const suffix = `${process.pid}_${Date.now().toString(36)}`;
const FILE =
  'settlement_id,customer,amount,settled_on,settled_at\n' +
  'S1,홍길동,15000.00,2026-11-20,2026-11-20 09:00:00\n' +
  'S2,"Kim, ""Jay""",-12345678901234567.123456789,2026-11-20,2026-11-20T23:59:59.123456+09:00\n' +
  'S3,"",0.000000001,2026-11-19,2026-11-20 00:00:00.5\n';
const BAD = 'settlement_id,customer,amount,settled_on,settled_at\nS9,x,1.00,2026-11-31,2026-11-20 09:00:00\n';

const targets = [
  {
    name: 'PostgreSQL',
    skip: SKIP_PG,
    url: PG_URL,
    client: 'pg',
    table: `ferry_imp_${suffix}.settlements`,
    setup: [`create schema ferry_imp_${suffix}`, `create table ferry_imp_${suffix}.settlements (settlement_id text primary key, customer text, amount numeric(38,9) not null, settled_on date not null, settled_at timestamptz(6) not null, business_date text)`],
    teardown: [`drop schema if exists ferry_imp_${suffix} cascade`],
    read: `select settlement_id, customer, amount::text as amount, to_char(settled_on, 'YYYY-MM-DD') as settled_on, to_char(settled_at at time zone 'Asia/Seoul', 'YYYY-MM-DD HH24:MI:SS.US') as settled_at, business_date from ferry_imp_${suffix}.settlements order by settlement_id`,
  },
  {
    name: 'MariaDB',
    skip: SKIP_MYSQL,
    url: MYSQL_URL,
    client: 'mysql',
    table: `ferry_imp_${suffix}`,
    setup: [`create table ferry_imp_${suffix} (settlement_id varchar(20) primary key, customer text, amount decimal(38,9) not null, settled_on date not null, settled_at datetime(6) not null, business_date varchar(10)) character set utf8mb4`],
    teardown: [`drop table if exists ferry_imp_${suffix}`],
    read: `select settlement_id, customer, cast(amount as char) as amount, date_format(settled_on, '%Y-%m-%d') as settled_on, date_format(settled_at, '%Y-%m-%d %H:%i:%s.%f') as settled_at, business_date from ferry_imp_${suffix} order by settlement_id`,
  },
];

const EXPECTED = [
  { settlement_id: 'S1', customer: '홍길동', amount: '15000.000000000', settled_on: '2026-11-20', settled_at: '2026-11-20 09:00:00.000000', business_date: '2026-11-20' },
  { settlement_id: 'S2', customer: 'Kim, "Jay"', amount: '-12345678901234567.123456789', settled_on: '2026-11-20', settled_at: '2026-11-20 23:59:59.123456', business_date: '2026-11-20' },
  { settlement_id: 'S3', customer: '', amount: '0.000000001', settled_on: '2026-11-19', settled_at: '2026-11-20 00:00:00.500000', business_date: '2026-11-20' },
];

for (const t of targets) {
  describe(`import into ${t.name}`, { skip: t.skip }, () => {
    let db: Knex;
    let p: TempProject;
    const rows = async () => (t.client === 'pg' ? (await db.raw(t.read)).rows : (await db.raw(t.read))[0]) as Array<Record<string, unknown>>;

    before(async () => {
      db = knexFactory({ client: t.client === 'pg' ? 'pg' : 'mysql2', connection: t.url });
      if (t.client === 'mysql') await db.raw(`set time_zone = '+09:00'`);
      for (const s of t.setup) await db.raw(s);
      p = tempProject({
        'ferry.config.ts': `import { defineConfig } from 'ferry';
export default defineConfig({ timezone: 'Asia/Seoul', connections: {
  ledger: { type: 'database', client: '${t.client}', connection: ${JSON.stringify(t.url)} },
  bank: { type: 'local', root: 'bank' } } });`,
        'jobs/settle.ts': `import { defineImport } from 'ferry';
export default defineImport({
  businessDate: 'today',
  fetch: { connection: 'bank', file: 'settle_{date:yyyyMMdd}.csv', stableFor: '0s' },
  format: { type: 'csv', columns: { settlement_id: 'string', customer: { type: 'string', nullable: true }, amount: 'decimal', settled_on: 'date', settled_at: 'timestamp' } },
  load: { connection: 'ledger', table: '${t.table}', mode: 'replace', replaceBy: { dateColumn: 'business_date' } },
});`,
      });
    });
    after(async () => {
      // The marker rows of this job's files, then the tables.
      await db.raw(`delete from ferry_ingested_files where job = 'settle' and file_name like 'settle_%'`).catch(() => undefined);
      for (const s of t.teardown) await db.raw(s).catch(() => undefined);
      await db.destroy();
      p.remove();
    });

    test('ingests exact values, and a rejected file leaves the table as it was', async () => {
      p.write(`bank/settle_20261120.csv`, FILE);
      const r = await runFerry(p.dir, ['--json', 'run', 'settle', '--date', '2026-11-20']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(await rows(), EXPECTED);
      p.write(`bank/settle_20261121.csv`, BAD);
      const bad = await runFerry(p.dir, ['--json', 'run', 'settle', '--date', '2026-11-21']);
      assert.equal(bad.code, 4, bad.stdout);
      assert.match(bad.stdout, /line 2.*settled_on/);
      assert.deepEqual(await rows(), EXPECTED);
    });

    test("reingest with mode 'replace' swaps the day's rows instead of adding them", async () => {
      const r = await runFerry(p.dir, ['--json', 'reingest', 'settle', '--date', '2026-11-20']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(await rows(), EXPECTED);
    });
  });
}
