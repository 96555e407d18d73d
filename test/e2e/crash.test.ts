/**
 * Crash test: kill -9 a run at each step (fault-injection points) and at arbitrary moments of a
 * big export, then run again. Never a partial file under the final name, never a lost or doubled
 * delivery, and the state store consistent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONFIG_TS, ferryBin, ORDERS_JOB_TS, runFerry, SHOP_SQL, sqliteFromSql, tempProject } from '../helpers/project.js';

// The default lease (300 s) is kept: the next run takes over the lease of the killed process
// because it can tell that process of this host is gone.
const CONFIG = CONFIG_TS;
const EXPECTED =
  'id,customer,amount,paid,created_at\n' +
  '1,홍길동,15000.00,true,2026-11-20T00:00:00+09:00\n' +
  '2,"Kim, ""Jay""",2500.50,false,2026-11-20T23:59:59+09:00\n';

interface History {
  attempts: Array<{ status: string; files: Array<{ name: string; sha256: string; deliveries: Array<{ status: string }> }> }>;
}

function hiddenFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.')) : [];
}

describe('crash at each step, then run again', () => {
  const points = ['after-attempt', 'after-archive', 'after-record', 'deliver-before-rename', 'deliver-after-data', 'after-deliver'];
  for (const point of points) {
    test(point, async () => {
      const p = tempProject({ 'ferry.config.ts': CONFIG, 'jobs/orders.ts': ORDERS_JOB_TS });
      sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL);
      try {
        const crashed = await runFerry(p.dir, ['run', 'orders', '--date', '2026-11-20'], { FERRY_CRASH_AT: point });
        assert.equal(crashed.signal, 'SIGKILL', `expected the run to die at ${point}: ${crashed.stderr}`);
        const final = p.path('partner/in/orders_20261120.csv');
        if (existsSync(final)) assert.equal(readFileSync(final, 'utf8'), EXPECTED, 'a file under the final name is complete');

        const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(readFileSync(final, 'utf8'), EXPECTED);
        const sha = createHash('sha256').update(EXPECTED).digest('hex');
        assert.equal(readFileSync(`${final}.sha256`, 'utf8'), `${sha}  orders_20261120.csv\n`);
        assert.ok(existsSync(`${final}.done`));
        assert.deepEqual(hiddenFiles(p.path('partner/in')), [], 'no temporary files left at the partner');

        const h = JSON.parse((await runFerry(p.dir, ['--json', 'history', 'orders'])).stdout) as History;
        const files = h.attempts.flatMap((a) => a.files);
        assert.equal(files.length, 1, 'one produced file recorded');
        assert.equal(files[0]!.sha256, sha);
        assert.equal(files[0]!.deliveries.filter((d) => d.status === 'delivered').length, 1, 'one delivery recorded');
        assert.equal(h.attempts[0]!.status, 'succeeded');
        const s = JSON.parse((await runFerry(p.dir, ['--json', 'status', 'orders', '--days', '30'])).stdout) as {
          jobs: Array<{ cells: Array<{ date: string; status: string }> }>;
        };
        assert.match(s.jobs[0]!.cells.find((c) => c.date === '2026-11-20')!.status, /^(sent|resumed)$/);
        // And a third run does nothing.
        const third = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
        assert.match(third.stdout, /already-done/);
      } finally {
        p.remove();
      }
    });
  }
});

describe('kill -9 at arbitrary moments of a big export', () => {
  test('the rerun delivers exactly the bytes of an uninterrupted run', async () => {
    const rows = 300_000;
    const seed = `create table orders (id integer primary key, customer text, amount text, paid boolean, created_at datetime);
      with recursive n(i) as (select 1 union all select i + 1 from n where i < ${rows})
      insert into orders select i, 'customer ' || i || ', "q"', (i * 7 % 100000) || '.' || (i % 100), i % 2, '2026-11-20 ' || printf('%02d:%02d:%02d', i % 24, i % 60, i % 59) from n;`;
    const clean = tempProject({ 'ferry.config.ts': CONFIG, 'jobs/orders.ts': ORDERS_JOB_TS });
    const p = tempProject({ 'ferry.config.ts': CONFIG, 'jobs/orders.ts': ORDERS_JOB_TS });
    try {
      sqliteFromSql(clean.path('shop.sqlite'), seed);
      sqliteFromSql(p.path('shop.sqlite'), seed);
      const ok = await runFerry(clean.dir, ['run', 'orders', '--date', '2026-11-20']);
      assert.equal(ok.code, 0, ok.stderr);
      const reference = readFileSync(clean.path('partner/in/orders_20261120.csv'));
      assert.ok(reference.length > 5_000_000);

      const final = p.path('partner/in/orders_20261120.csv');
      for (const delayMs of [150, 350, 600, 900]) {
        const child = spawn(process.execPath, [ferryBin, '--quiet', 'run', 'orders', '--date', '2026-11-20'], { cwd: p.dir, stdio: 'ignore' });
        // Listen from the start: a fast run may finish before the kill.
        const closed = new Promise((r) => child.on('close', r));
        await sleep(delayMs);
        child.kill('SIGKILL');
        await closed;
        if (existsSync(final)) assert.ok(readFileSync(final).equals(reference), `complete file only (killed at ${delayMs} ms)`);
      }
      const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(readFileSync(final).equals(reference));
      assert.deepEqual(hiddenFiles(p.path('partner/in')), []);
      const h = JSON.parse((await runFerry(p.dir, ['--json', 'history', 'orders', '--limit', '50'])).stdout) as History;
      const delivered = h.attempts.flatMap((a) => a.files.flatMap((f) => f.deliveries.filter((d) => d.status === 'delivered')));
      assert.equal(delivered.length, 1);
    } finally {
      clean.remove();
      p.remove();
    }
  });
});

describe('import: kill -9 at each step, then run again', () => {
  const IMPORT_CONFIG = `
import { defineConfig } from 'ferry';
export default defineConfig({
  timezone: 'Asia/Seoul',
  connections: {
    ledger: { type: 'database', client: 'sqlite', connection: 'ledger.sqlite' },
    bank: { type: 'local', root: 'bank' },
  },
});
`;
  const IMPORT_JOB = `
import { defineImport } from 'ferry';
export default defineImport({
  businessDate: 'today',
  fetch: { connection: 'bank', dir: 'out', file: 'settle_{date:yyyyMMdd}.csv', after: { moveTo: 'out/done' }, stableFor: '0s' },
  format: { type: 'csv', header: true, columns: { settlement_id: 'string', amount: 'decimal' } },
  load: { connection: 'ledger', table: 'settlements', mode: 'insert' },
});
`;
  const FILE = 'settlement_id,amount\nS1,15000.00\nS2,-0.01\n';
  /** Every file below `dir` (temp names, copies, sidecar temps), relative to it. */
  const filesUnder = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name) : [];

  // Points where the killed run leaves something in the inbox: the download's temp file, the
  // local copy (recorded, or loaded but not committed, or committed but not archived).
  const points = ['import-after-download', 'receive-after-record', 'ingest-before-commit', 'ingest-after-commit'];
  for (const point of points) {
    test(`${point}: the next run ingests the file once and leaves nothing in var/inbox`, async () => {
      const p = tempProject({ 'ferry.config.ts': IMPORT_CONFIG, 'jobs/settle.ts': IMPORT_JOB });
      sqliteFromSql(p.path('ledger.sqlite'), 'create table settlements (settlement_id text primary key, amount text not null);');
      try {
        p.write('bank/out/settle_20261120.csv', FILE);
        const crashed = await runFerry(p.dir, ['run', 'settle', '--date', '2026-11-20'], { FERRY_CRASH_AT: point });
        assert.equal(crashed.signal, 'SIGKILL', `expected the run to die at ${point}: ${crashed.stderr}`);
        assert.equal(filesUnder(p.path('var/inbox')).length, 1, `the killed run left its file in the inbox: ${filesUnder(p.path('var/inbox')).join(', ')}`);

        const r = await runFerry(p.dir, ['--json', 'run', 'settle', '--date', '2026-11-20']);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.deepEqual(filesUnder(p.path('var/inbox')), [], 'stale temp files and copies are removed');
        const db = new Database(p.path('ledger.sqlite'), { readonly: true });
        try {
          assert.deepEqual(db.prepare('select settlement_id, amount from settlements order by settlement_id').all(), [
            { settlement_id: 'S1', amount: '15000.00' },
            { settlement_id: 'S2', amount: '-0.01' },
          ]);
        } finally {
          db.close();
        }
        assert.ok(existsSync(p.path('bank/out/done/settle_20261120.csv')), 'the partner file was moved on');
      } finally {
        p.remove();
      }
    });
  }
});
