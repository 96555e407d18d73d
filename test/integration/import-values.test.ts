/**
 * What lands in the target database is what the file says, on SQLite, PostgreSQL and MariaDB
 * alike (SPEC §4): an instant is stored as that instant in an instant column and as its wall
 * clock in the config zone in a wall-clock column; a value the column cannot hold exactly is a
 * rejection (exit 4, `.error.json` naming line and column, the table untouched), never a rounded
 * or shifted value; and no run leaves copies of a file behind in `var/inbox`.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { runFerry, tempProject, type TempProject } from '../helpers/project.js';
import { MYSQL_URL, PG_URL, SKIP_MYSQL, SKIP_PG } from '../helpers/servers.js';

const suffix = `${process.pid}_${Date.now().toString(36)}`;
const TS_TABLE = `i7c_ts_${suffix}`;
const VALS_TABLE = `i7c_vals_${suffix}`;
/** 2026-01-15T10:00:00+09:00 */
const EPOCH = Date.UTC(2026, 0, 15, 1, 0, 0) / 1000;

interface Target {
  name: string;
  skip: string | false;
  client: 'sqlite' | 'pg' | 'mysql';
  ddl: string[];
  /** Read the timestamp table back normalised: wall-clock text in Asia/Seoul (and the epoch of `inst` where it is an instant). */
  readTs: string;
  readVals: string;
  /** Which refusal cases apply (all but the ones a database stores exactly). */
  cases: Set<string>;
}

const targets: Target[] = [
  {
    name: 'SQLite',
    skip: false,
    client: 'sqlite',
    ddl: [
      `create table ${TS_TABLE} (id text primary key, wall datetime, inst text)`,
      `create table ${VALS_TABLE} (id text primary key, big integer, small integer, amount decimal(12,2), note text check (length(note) <= 5), day date)`,
    ],
    readTs: `select id, wall, inst, null as epoch from ${TS_TABLE} order by id`,
    readVals: `select id, big, small, amount, note, day from ${VALS_TABLE} order by id`,
    cases: new Set(['big', 'amount-digits', 'day', 'note-long']),
  },
  {
    name: 'PostgreSQL',
    skip: SKIP_PG,
    client: 'pg',
    ddl: [
      `create table ${TS_TABLE} (id text primary key, wall timestamp(6), inst timestamptz(6))`,
      `create table ${VALS_TABLE} (id text primary key, big bigint, small integer, amount numeric(12,2), note varchar(5), day date)`,
    ],
    readTs:
      `select id, to_char(wall, 'YYYY-MM-DD HH24:MI:SS') as wall, to_char(inst at time zone 'Asia/Seoul', 'YYYY-MM-DD HH24:MI:SS') as inst, ` +
      `extract(epoch from inst)::bigint::text as epoch from ${TS_TABLE} order by id`,
    readVals: `select id, big::text as big, small::text as small, amount::text as amount, note, to_char(day, 'YYYY-MM-DD') as day from ${VALS_TABLE} order by id`,
    cases: new Set(['big', 'small', 'amount-digits', 'amount-scale', 'note-nul', 'day', 'note-long']),
  },
  {
    name: 'MariaDB',
    skip: SKIP_MYSQL,
    client: 'mysql',
    ddl: [
      `create table ${TS_TABLE} (id varchar(10) primary key, wall datetime(6) null, inst timestamp(6) null default null)`,
      `create table ${VALS_TABLE} (id varchar(10) primary key, big bigint, small int, amount decimal(12,2), note varchar(5), day date) character set utf8mb4`,
    ],
    readTs:
      `select id, date_format(wall, '%Y-%m-%d %H:%i:%s') as wall, date_format(inst, '%Y-%m-%d %H:%i:%s') as inst, ` +
      `cast(unix_timestamp(inst) as char) as epoch from ${TS_TABLE} order by id`,
    readVals: `select id, cast(big as char) as big, cast(small as char) as small, cast(amount as char) as amount, note, date_format(day, '%Y-%m-%d') as day from ${VALS_TABLE} order by id`,
    cases: new Set(['big', 'small', 'amount-digits', 'amount-scale', 'day', 'note-long']),
  },
];

/** Each refusal: the bad value on line 3 (after the header and a good row), the column it is in. */
const REFUSALS: Array<{ id: string; date: string; column: string; row: string; reason: RegExp }> = [
  { id: 'big', date: '20260201', column: 'big', row: 'X,100000000000000000000,1,1.00,x,2026-01-01', reason: /100000000000000000000.*(range|64-bit)/ },
  { id: 'small', date: '20260202', column: 'small', row: 'X,1,99999999999,1.00,x,2026-01-01', reason: /99999999999 is out of range/ },
  { id: 'amount-digits', date: '20260203', column: 'amount', row: `X,1,1,${'1234567890'.repeat(4)},x,2026-01-01`, reason: /1234567890/ },
  { id: 'amount-scale', date: '20260204', column: 'amount', row: 'X,1,1,1.005,x,2026-01-01', reason: /fraction digits.*rounded/ },
  { id: 'note-nul', date: '20260205', column: 'note', row: 'X,1,1,1.00,a\0b,2026-01-01', reason: /NUL/ },
  { id: 'day', date: '20260206', column: 'day', row: 'X,1,1,1.00,x,0000-01-01', reason: /year 0000/ },
  // Not checked by ferry: the database's own refusal still rejects the file with its line.
  { id: 'note-long', date: '20260207', column: 'note', row: 'X,1,1,1.00,toolong,2026-01-01', reason: /refused|too long|constraint/i },
];

const SEED = { id: 'SEED', big: '9223372036854775807', small: '2147483647', amount: '9999999999.99', note: 'seed', day: '2026-01-01' };

/** Every file below a folder, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)).map((f) => `${n}/${f}`) : [n]));
}

function jobFile(file: string, columns: string, table: string): string {
  return `import { defineImport } from 'ferry';
export default defineImport({
  businessDate: 'today',
  fetch: { connection: 'bank', file: '${file}', stableFor: '0s' },
  format: { type: 'csv', columns: ${columns} },
  load: { connection: 'ledger', table: '${table}', mode: 'insert' },
});`;
}

for (const t of targets) {
  describe(`values into ${t.name}`, { skip: t.skip }, () => {
    let db: Knex;
    let p: TempProject;
    const rows = async (sql: string): Promise<Array<Record<string, unknown>>> => {
      const res: unknown = await db.raw(sql);
      if (t.client === 'pg') return (res as { rows: Array<Record<string, unknown>> }).rows;
      if (t.client === 'mysql') return (res as [Array<Record<string, unknown>>])[0];
      return res as Array<Record<string, unknown>>;
    };
    const ferry = async (job: string, date: string) => {
      const r = await runFerry(p.dir, ['--json', 'run', job, '--date', date]);
      return { ...r, result: JSON.parse(r.stdout || '{"results":[{}]}').results[0] as { outcome?: string; error?: string } };
    };

    before(async () => {
      const connection = t.client === 'sqlite' ? 'ledger.sqlite' : t.client === 'pg' ? PG_URL : MYSQL_URL;
      p = tempProject({
        'ferry.config.ts': `import { defineConfig } from 'ferry';
export default defineConfig({ timezone: 'Asia/Seoul', retry: { tries: 1, baseDelayMs: 10, maxDelayMs: 20 }, connections: {
  ledger: { type: 'database', client: '${t.client}', connection: ${JSON.stringify(connection)} },
  bank: { type: 'local', root: 'bank' } } });`,
        'jobs/i7c-ts.ts': jobFile('ts_{date:yyyyMMdd}.csv', "{ id: 'string', wall: 'timestamp', inst: 'timestamp' }", TS_TABLE),
        'jobs/i7c-vals.ts': jobFile(
          'vals_{date:yyyyMMdd}.csv',
          "{ id: 'string', big: { type: 'int', nullable: true }, small: { type: 'int', nullable: true }, amount: { type: 'decimal', nullable: true }, note: { type: 'string', nullable: true }, day: { type: 'date', nullable: true } }",
          VALS_TABLE,
        ),
        'jobs/i7c-gone.ts': jobFile('gone_{date:yyyyMMdd}.csv', "{ id: 'string' }", `i7c_missing_${suffix}`),
      });
      p.write('bank/.keep', '');
      db =
        t.client === 'sqlite'
          ? knexFactory({ client: 'better-sqlite3', connection: { filename: p.path('ledger.sqlite') }, useNullAsDefault: true })
          : knexFactory({ client: t.client === 'pg' ? 'pg' : 'mysql2', connection: t.client === 'pg' ? PG_URL : MYSQL_URL });
      if (t.client === 'mysql') await db.raw(`set time_zone = '+09:00'`);
      for (const s of t.ddl) await db.raw(s);
      await db.raw(`insert into ${VALS_TABLE} (id, big, small, amount, note, day) values ('SEED', 9223372036854775807, 2147483647, 9999999999.99, 'seed', '2026-01-01')`);
    });
    after(async () => {
      await db.raw(`delete from ferry_ingested_files where job like 'i7c-%'`).catch(() => undefined);
      for (const table of [TS_TABLE, VALS_TABLE]) await db.raw(`drop table if exists ${table}`).catch(() => undefined);
      await db.destroy();
      p.remove();
    });

    test('an instant and a wall time give the same stored values as on every database', async () => {
      p.write('bank/ts_20260115.csv', 'id,wall,inst\nA,2026-01-15T10:00:00+09:00,2026-01-15T10:00:00+09:00\nB,2026-01-15T10:00:00,2026-01-15T10:00:00\n');
      const r = await ferry('i7c-ts', '2026-01-15');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const epoch = t.client === 'sqlite' ? null : String(EPOCH);
      assert.deepEqual(
        (await rows(t.readTs)).map((x) => ({ ...x, epoch: x['epoch'] === null ? null : String(Math.trunc(Number(x['epoch']))) })),
        [
          { id: 'A', wall: '2026-01-15 10:00:00', inst: '2026-01-15 10:00:00', epoch },
          { id: 'B', wall: '2026-01-15 10:00:00', inst: '2026-01-15 10:00:00', epoch },
        ],
      );
      assert.deepEqual(filesUnder(p.path('var/inbox')), []);
    });

    for (const c of REFUSALS.filter((x) => t.cases.has(x.id))) {
      test(`${c.id}: rejected (exit 4) with line 3 and column '${c.column}', the table untouched, nothing left in the inbox`, async () => {
        const name = `vals_${c.date}.csv`;
        p.write(`bank/${name}`, `id,big,small,amount,note,day\nR${c.date},1,1,1.00,ok,2026-01-01\n${c.row}\n`);
        const date = `${c.date.slice(0, 4)}-${c.date.slice(4, 6)}-${c.date.slice(6)}`;
        const r = await ferry('i7c-vals', date);
        assert.equal(r.code, 4, r.stdout + r.stderr);
        const report = JSON.parse(readFileSync(p.path(`var/error/i7c-vals/${name}.error.json`), 'utf8')) as { problems: Array<{ line?: number; column?: string; message: string }> };
        assert.equal(report.problems.length, 1, JSON.stringify(report));
        assert.equal(report.problems[0]!.line, 3, JSON.stringify(report));
        // SQLite's CHECK error names the constraint's expression, not a column.
        assert.equal(report.problems[0]!.column, t.client === 'sqlite' && c.id === 'note-long' ? undefined : c.column, JSON.stringify(report));
        assert.match(report.problems[0]!.message, c.reason);
        const stored = (await rows(t.readVals)).map((x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v === null ? null : String(v)])));
        if (t.client === 'sqlite') assert.deepEqual(stored.map((x) => x['id']), ['SEED']);
        else assert.deepEqual(stored, [SEED]);
        assert.deepEqual(filesUnder(p.path('var/inbox')), []);
        // A rerun does not fail on the file (it is not fetched again) and still leaves nothing behind.
        const again = await ferry('i7c-vals', date);
        assert.notEqual(again.code, 1, again.stdout + again.stderr);
        assert.deepEqual(filesUnder(p.path('var/inbox')), []);
      });
    }

    test('a load that fails (exit 1) leaves no copy in the inbox, run after run', async () => {
      p.write('bank/gone_20260301.csv', 'id\nG1\n');
      for (let i = 0; i < 3; i++) {
        const r = await ferry('i7c-gone', '2026-03-01');
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.deepEqual(filesUnder(p.path('var/inbox')), [], `after run ${i + 1}`);
      }
    });
  });
}
