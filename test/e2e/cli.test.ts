/**
 * End to end: spawn bin/ferry against a temporary project (SQLite source and state, a local
 * folder as the partner) and check outputs, files and exit codes (SPEC §6).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { CONFIG_TS, ORDERS_JOB_TS, runFerry, SHOP_SQL, sqliteFromSql, tempProject, type TempProject } from '../helpers/project.js';

const EXPECTED_ORDERS =
  'id,customer,amount,paid,created_at\n' +
  '1,홍길동,15000.00,true,2026-11-20T00:00:00+09:00\n' +
  '2,"Kim, ""Jay""",2500.50,false,2026-11-20T23:59:59+09:00\n';

describe('ferry run on the embedded defaults', () => {
  let p: TempProject;
  before(() => {
    p = tempProject({ 'ferry.config.ts': CONFIG_TS, 'jobs/orders.ts': ORDERS_JOB_TS });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL);
  });
  after(() => p.remove());

  test('produces, archives and delivers the file with sidecar and done file (exit 0)', async () => {
    const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { results: Array<Record<string, unknown>> };
    assert.equal(out.results.length, 1);
    const res = out.results[0]!;
    const body = readFileSync(p.path('partner/in/orders_20261120.csv'), 'utf8');
    assert.equal(body, EXPECTED_ORDERS);
    const sha = createHash('sha256').update(body).digest('hex');
    assert.equal(res.outcome, 'sent');
    assert.equal(res.rows, 2);
    assert.equal(res.bytes, Buffer.byteLength(body));
    assert.equal(res.sha256, sha);
    assert.equal(readFileSync(p.path('partner/in/orders_20261120.csv.sha256'), 'utf8'), `${sha}  orders_20261120.csv\n`);
    assert.ok(existsSync(p.path('partner/in/orders_20261120.csv.done')));
    assert.equal(readFileSync(p.path('var/archive/orders/2026/11/orders_20261120.csv'), 'utf8'), body);
    // Logs go to stderr as JSON lines when not on a terminal; stdout is only the result.
    const logs = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    assert.ok(logs.some((l) => l.msg === 'file archived'));
  });

  test('a second run of a sent instance does nothing and exits 0', async () => {
    writeFileSync(p.path('partner/in/marker'), '');
    const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { results: Array<{ outcome: string }> }).results[0]!.outcome, 'already-done');
  });

  test('status and history show the instance and its file', async () => {
    const s = await runFerry(p.dir, ['--json', 'status', 'orders', '--days', '40']);
    assert.equal(s.code, 0, s.stderr);
    const st = JSON.parse(s.stdout) as { jobs: Array<{ job: string; cells: Array<{ date: string; status: string }> }> };
    assert.equal(st.jobs[0]!.cells.find((c) => c.date === '2026-11-20')?.status, 'sent');
    const h = await runFerry(p.dir, ['--json', 'history', 'orders']);
    assert.equal(h.code, 0, h.stderr);
    const hist = JSON.parse(h.stdout) as { attempts: Array<{ status: string; files: Array<{ name: string; rows: number; deliveries: Array<{ status: string }> }> }> };
    assert.equal(hist.attempts.length, 1);
    assert.equal(hist.attempts[0]!.files[0]!.name, 'orders_20261120.csv');
    assert.equal(hist.attempts[0]!.files[0]!.deliveries[0]!.status, 'delivered');
    const text = await runFerry(p.dir, ['history', 'orders']);
    assert.match(text.stdout, /orders_20261120\.csv\s+2 rows/);
  });

  test('--force produces the file again as a new attempt', async () => {
    const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20', '--force']);
    assert.equal(r.code, 0, r.stderr);
    const res = (JSON.parse(r.stdout) as { results: Array<{ outcome: string; archivePath: string }> }).results[0]!;
    assert.equal(res.outcome, 'sent');
    assert.match(res.archivePath, /attempt-\d+\/orders_20261120\.csv$/);
    const h = JSON.parse((await runFerry(p.dir, ['--json', 'history', 'orders'])).stdout) as { attempts: unknown[] };
    assert.equal(h.attempts.length, 2);
  });

  test('an empty day still sends a header-only file', async () => {
    const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-01']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(p.path('partner/in/orders_20261101.csv'), 'utf8'), 'id,customer,amount,paid,created_at\n');
  });

  test('list and check describe the project', async () => {
    const l = await runFerry(p.dir, ['--json', 'list']);
    assert.equal(l.code, 0, l.stderr);
    const jobs = (JSON.parse(l.stdout) as { jobs: Array<{ job: string; destinations: string[] }> }).jobs;
    assert.deepEqual(jobs.map((j) => [j.job, j.destinations]), [['orders', ['partner:in']]]);
    const c = await runFerry(p.dir, ['check']);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.match(c.stdout, /shop\s+database \(sqlite\)\s+yes\s+SQLite 3\./);
  });

  test('--dry-run writes nothing', async () => {
    const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-18', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { results: Array<{ outcome: string; file: string }> }).results[0]!.file, 'orders_20261118.csv');
    assert.ok(!existsSync(p.path('partner/in/orders_20261118.csv')));
  });
});

describe('exit codes', () => {
  test('2: unknown job, bad flags, invalid definitions — nothing runs', async () => {
    const p = tempProject({ 'ferry.config.ts': CONFIG_TS, 'jobs/orders.ts': ORDERS_JOB_TS });
    try {
      const a = await runFerry(p.dir, ['run', 'nope']);
      assert.equal(a.code, 2);
      assert.match(a.stderr, /unknown job 'nope'; jobs in this project: orders/);
      const b = await runFerry(p.dir, ['run', 'orders', '--date', '20261120']);
      assert.equal(b.code, 2);
      assert.match(b.stderr, /--date: '20261120' is not a date; expected yyyy-MM-dd/);
      const c = await runFerry(p.dir, ['run', 'orders', '--bogus']);
      assert.equal(c.code, 2);
      p.write('jobs/bad.ts', `import { defineExport } from 'ferry'; export default defineExport({ source: { connection: 'shop', sql: 'select 1' }, format: { type: 'xml' }, file: { name: 'a' } } as any);`);
      const d = await runFerry(p.dir, ['run', 'orders']);
      assert.equal(d.code, 2);
      assert.match(d.stderr, /jobs\/bad\.ts: format\.type: 'xml' is not allowed/);
      assert.ok(!existsSync(p.path('var')), 'nothing ran, no state was created');
      assert.doesNotMatch(d.stderr, /\n\s+at /, 'no stack trace for a user mistake');
    } finally {
      p.remove();
    }
  });

  test('2: a column the query does not return names the job, field and the available columns', async () => {
    const p = tempProject({ 'ferry.config.ts': CONFIG_TS, 'jobs/orders.ts': ORDERS_JOB_TS.replace("'paid', 'created_at'", "'paid', 'created'") });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL);
    try {
      const r = await runFerry(p.dir, ['run', 'orders', '--date', '2026-11-20']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /jobs\/orders\.ts: format\.columns\[4\]: column 'created' is not in the query result/);
    } finally {
      p.remove();
    }
  });

  test('1: delivery target holds other bytes (ifExists fail); the file stays archived and the next run resumes it', async () => {
    const p = tempProject({ 'ferry.config.ts': CONFIG_TS, 'jobs/orders.ts': ORDERS_JOB_TS });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL);
    try {
      mkdirSync(p.path('partner/in'), { recursive: true });
      writeFileSync(p.path('partner/in/orders_20261120.csv'), 'not ours\n');
      const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
      assert.equal(r.code, 1, r.stderr);
      const res = (JSON.parse(r.stdout) as { results: Array<{ outcome: string; error: string }> }).results[0]!;
      assert.equal(res.outcome, 'failed');
      assert.match(res.error, /already exists with other content/);
      assert.equal(readFileSync(p.path('partner/in/orders_20261120.csv'), 'utf8'), 'not ours\n');
      // The operator removes the stray file; the next run delivers the archived bytes, no new query.
      // The source changes meanwhile: a resume must send the archived bytes, not query again.
      sqliteFromSql(p.path('shop.sqlite'), "insert into orders values (9, 'late', '1', 1, '2026-11-20 12:00:00')");
      unlinkSync(p.path('partner/in/orders_20261120.csv'));
      const again = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((JSON.parse(again.stdout) as { results: Array<{ outcome: string }> }).results[0]!.outcome, 'resumed');
      assert.equal(readFileSync(p.path('partner/in/orders_20261120.csv'), 'utf8'), EXPECTED_ORDERS);
      assert.deepEqual(readdirSync(p.path('partner/in')).filter((n) => n.startsWith('.')), []);
    } finally {
      p.remove();
    }
  });

  test("1: whenEmpty 'fail' on an empty day; 0 with 'skip' and nothing sent", async () => {
    const p = tempProject({
      'ferry.config.ts': CONFIG_TS,
      'jobs/strict.ts': ORDERS_JOB_TS.replace("deliver:", "whenEmpty: 'fail', deliver:"),
      'jobs/lenient.ts': ORDERS_JOB_TS.replace("deliver:", "whenEmpty: 'skip', deliver:"),
    });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL);
    try {
      const a = await runFerry(p.dir, ['--json', 'run', 'strict', '--date', '2026-10-01']);
      assert.equal(a.code, 1);
      assert.match(a.stdout, /whenEmpty is 'fail'/);
      const b = await runFerry(p.dir, ['--json', 'run', 'lenient', '--date', '2026-10-01']);
      assert.equal(b.code, 0, b.stderr);
      assert.equal((JSON.parse(b.stdout) as { results: Array<{ outcome: string }> }).results[0]!.outcome, 'empty-skipped');
      assert.ok(!existsSync(p.path('partner/in/orders_20261001.csv')));
    } finally {
      p.remove();
    }
  });

  test("1: a job's own params function throws: the job fails naming its file, not as a bug", async () => {
    const p = tempProject({
      'ferry.config.ts': CONFIG_TS,
      'jobs/orders.ts': ORDERS_JOB_TS.replace("source: { connection: 'shop',", "source: { params: () => { throw new Error('no region configured'); }, connection: 'shop',"),
    });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL);
    try {
      const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /jobs\/orders\.ts: source\.params failed: no region configured/);
    } finally {
      p.remove();
    }
  });

  test('1: the source database is unreachable, with a clear message', async () => {
    const p = tempProject({ 'ferry.config.ts': CONFIG_TS, 'jobs/orders.ts': ORDERS_JOB_TS });
    try {
      const r = await runFerry(p.dir, ['run', 'orders', '--date', '2026-11-20']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /shop/);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /);
    } finally {
      p.remove();
    }
  });

  test('secrets from env() never appear in output', async () => {
    const p = tempProject({
      'ferry.config.ts': `import { defineConfig, env } from 'ferry';
        export default defineConfig({ timezone: 'UTC', connections: {
          shop: { type: 'database', client: 'pg', connection: env('SHOP_URL') },
          partner: { type: 'local', root: 'partner' } } });`,
      'jobs/orders.ts': ORDERS_JOB_TS,
    });
    try {
      const secret = 'Sup3rSecretPw';
      const r = await runFerry(p.dir, ['--verbose', 'run', 'orders', '--date', '2026-11-20'], {
        SHOP_URL: `postgres://nobody:${secret}@127.0.0.1:1/none`,
      });
      assert.equal(r.code, 1);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(secret));
      const missing = await runFerry(p.dir, ['run', 'orders', '--date', '2026-11-20']);
      assert.equal(missing.code, 2, missing.stderr + missing.stdout);
      assert.match(missing.stdout + missing.stderr, /environment variable SHOP_URL is not set/);
    } finally {
      p.remove();
    }
  });
});

describe('maxAttempts', () => {
  test('after maxAttempts failed runs an instance waits for an operator; --force runs it again', async () => {
    const p = tempProject({ 'ferry.config.ts': CONFIG_TS.replace('retry:', 'maxAttempts: 2, retry:'), 'jobs/orders.ts': ORDERS_JOB_TS });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL);
    try {
      mkdirSync(p.path('partner/in'), { recursive: true });
      writeFileSync(p.path('partner/in/orders_20261120.csv'), 'not ours\n');
      for (let i = 0; i < 2; i++) assert.equal((await runFerry(p.dir, ['run', 'orders', '--date', '2026-11-20'])).code, 1);
      unlinkSync(p.path('partner/in/orders_20261120.csv'));
      const gaveUp = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
      assert.equal(gaveUp.code, 1);
      const res = (JSON.parse(gaveUp.stdout) as { results: Array<{ outcome: string; error: string }> }).results[0]!;
      assert.equal(res.outcome, 'gave-up');
      assert.match(res.error, /failed 2 times \(maxAttempts 2\).*already exists with other content.*run with --force/);
      assert.ok(!existsSync(p.path('partner/in/orders_20261120.csv')), 'nothing was attempted');
      const forced = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20', '--force']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(readFileSync(p.path('partner/in/orders_20261120.csv'), 'utf8'), EXPECTED_ORDERS);
    } finally {
      p.remove();
    }
  });
});

describe('leases', () => {
  test('a held instance is skipped by cron runs (0) and refused to a forced run (75)', async () => {
    const p = tempProject({ 'ferry.config.ts': CONFIG_TS, 'jobs/orders.ts': ORDERS_JOB_TS });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL);
    const { openStateStore } = await import('../../src/state/index.js');
    mkdirSync(p.path('var'), { recursive: true });
    const store = await openStateStore(`sqlite:${p.path('var/ferry.sqlite')}`, p.dir);
    try {
      await store.migrate();
      const held = await store.acquireLease({ job: 'orders', businessDate: '2026-11-20', kind: 'export', owner: 'other-host:1:abc', ttlMs: 60_000 });
      assert.ok(held);
      const a = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
      assert.equal(a.code, 0, a.stderr);
      assert.equal((JSON.parse(a.stdout) as { results: Array<{ outcome: string }> }).results[0]!.outcome, 'busy');
      assert.ok(!existsSync(p.path('partner/in/orders_20261120.csv')));
      const b = await runFerry(p.dir, ['run', 'orders', '--date', '2026-11-20', '--force']);
      assert.equal(b.code, 75, b.stderr);
      await store.releaseLease('orders', '2026-11-20', 'other-host:1:abc');
      // A live process of this host holds it: not taken over either.
      const live = `${hostname()}:${process.pid}:abcdef`;
      assert.ok(await store.acquireLease({ job: 'orders', businessDate: '2026-11-20', kind: 'export', owner: live, ttlMs: 60_000 }));
      const d = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
      assert.equal((JSON.parse(d.stdout) as { results: Array<{ outcome: string }> }).results[0]!.outcome, 'busy');
      await store.releaseLease('orders', '2026-11-20', live);
      const c = await runFerry(p.dir, ['run', 'orders', '--date', '2026-11-20']);
      assert.equal(c.code, 0, c.stderr);
      assert.ok(existsSync(p.path('partner/in/orders_20261120.csv')));
    } finally {
      await store.close();
      p.remove();
    }
  });
});
