/**
 * Import jobs end to end through bin/ferry: a local partner folder, a SQLite ledger, the state
 * store; arrival, checks, exactly-once ingest, archive and error folder, deadlines, exit codes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ferryBin, runFerry, sqliteFromSql, tempProject, type TempProject } from '../helpers/project.js';

const CONFIG = `
import { defineConfig } from 'ferry';
export default defineConfig({
  timezone: 'Asia/Seoul',
  connections: {
    ledger: { type: 'database', client: 'sqlite', connection: 'ledger.sqlite' },
    bank: { type: 'local', root: 'bank' },
  },
  retry: { tries: 2, baseDelayMs: 10, maxDelayMs: 20 },
});
`;

/**
 * The test job. Files are written whole before a run, so the stability window is off ('0s') unless
 * a test is about it (`stableFor` in extra.fetch, or `stableFor: null` for the default window).
 */
function job(extra: { fetch?: string; deadline?: string; checks?: string; load?: string; format?: string; stableFor?: string | null } = {}): string {
  const stable = extra.stableFor === null ? '' : `, stableFor: '${extra.stableFor ?? '0s'}'`;
  return `
import { defineImport } from 'ferry';
export default defineImport({
  businessDate: 'today',
  fetch: { connection: 'bank', dir: 'out', file: 'settle_{date:yyyyMMdd}.csv', after: { moveTo: 'out/done' }${stable} ${extra.fetch ?? ''} },
  ${extra.deadline ? `deadline: '${extra.deadline}',` : ''}
  format: { type: 'csv', header: true, columns: { settlement_id: 'string', amount: 'decimal', settled_at: 'timestamp' } ${extra.format ?? ''} },
  checks: { minRows: 1 ${extra.checks ?? ''} },
  load: ${extra.load ?? "{ connection: 'ledger', table: 'settlements', mode: 'upsert', key: ['settlement_id'] }"},
});
`;
}

const GOOD = 'settlement_id,amount,settled_at\r\nS1,15000.00,2026-11-20 09:00:00\r\nS2,-0.01,2026-11-20T23:59:59.123456+09:00\r\nS3,99999999999999999.99,2026-11-20 12:00:00\r\n';

function project(jobText = job()): TempProject {
  const p = tempProject({ 'ferry.config.ts': CONFIG, 'jobs/settle.ts': jobText });
  sqliteFromSql(p.path('ledger.sqlite'), 'create table settlements (settlement_id text primary key, amount text not null, settled_at text not null);');
  p.write('bank/out/.keep', '');
  return p;
}

function rows(p: TempProject): Array<Record<string, unknown>> {
  const db = new Database(p.path('ledger.sqlite'), { readonly: true });
  try {
    return db.prepare('select settlement_id, amount, settled_at from settlements order by settlement_id').all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

interface Result {
  outcome: string;
  exitCode: number;
  error?: string;
  received?: Array<{ name: string; outcome: string; rows?: number; late?: boolean; problems?: Array<{ line?: number; column?: string; message: string }> }>;
}
async function run(p: TempProject, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; result: Result; stderr: string }> {
  const r = await runFerry(p.dir, ['--json', ...args], env);
  let result: Result;
  try {
    result = (JSON.parse(r.stdout) as { results: Result[] }).results[0]!;
  } catch {
    throw new Error(`no JSON result (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, result, stderr: r.stderr };
}

describe('import: arrival, ingest, archive', () => {
  test('a complete file is ingested once, archived, and moved on the partner side', async () => {
    const p = project();
    try {
      p.write('bank/out/settle_20261120.csv', GOOD);
      const a = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.result.outcome, 'ingested');
      assert.equal(a.result.received![0]!.rows, 3);
      assert.deepEqual(rows(p), [
        { settlement_id: 'S1', amount: '15000.00', settled_at: '2026-11-20 09:00:00' },
        { settlement_id: 'S2', amount: '-0.01', settled_at: '2026-11-20 23:59:59.123456' },
        { settlement_id: 'S3', amount: '99999999999999999.99', settled_at: '2026-11-20 12:00:00' },
      ]);
      assert.equal(readFileSync(p.path('var/archive/settle/2026/11/settle_20261120.csv'), 'utf8'), GOOD);
      assert.ok(existsSync(p.path('bank/out/done/settle_20261120.csv')));
      assert.ok(!existsSync(p.path('bank/out/settle_20261120.csv')));
      const st = JSON.parse((await runFerry(p.dir, ['--json', 'status', 'settle', '--days', '30'])).stdout) as { jobs: Array<{ cells: Array<{ date: string; status: string }> }> };
      assert.equal(st.jobs[0]!.cells.find((c) => c.date === '2026-11-20')!.status, 'ingested');
      const h = await runFerry(p.dir, ['history', 'settle']);
      assert.match(h.stdout, /received settle_20261120\.csv {2}ingested {2}3 rows/);
      // The same date again: nothing to do.
      const b = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(b.result.outcome, 'already-done');
    } finally {
      p.remove();
    }
  });

  test('the same bytes again, under the same or another name, are not ingested twice', async () => {
    const p = project(job().replace("file: 'settle_{date:yyyyMMdd}.csv'", "file: 'settle_*.csv'"));
    try {
      p.write('bank/out/settle_a.csv', GOOD);
      assert.equal((await run(p, ['run', 'settle', '--date', '2026-11-20'])).result.outcome, 'ingested');
      // Another name, same bytes, other date; and the same name again.
      p.write('bank/out/settle_b.csv', GOOD);
      const b = await run(p, ['run', 'settle', '--date', '2026-11-21']);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.result.outcome, 'duplicate');
      p.write('bank/out/settle_a.csv', GOOD);
      const c = await run(p, ['run', 'settle', '--date', '2026-11-22']);
      assert.equal(c.result.outcome, 'duplicate');
      assert.equal(rows(p).length, 3);
      assert.ok(existsSync(p.path('bank/out/done/settle_b.csv')));
    } finally {
      p.remove();
    }
  });

  test('a bad file is rejected (exit 4): database untouched, error folder with the reason and lines', async () => {
    const p = project();
    try {
      p.write('bank/out/settle_20261120.csv', 'settlement_id,amount,settled_at\nS1,1.00,2026-11-20 09:00:00\nS2,12x,2026-11-20 09:00:00\nS3,3.00,yesterday\n');
      const r = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(r.code, 4, r.stderr);
      assert.equal(r.result.outcome, 'rejected');
      assert.deepEqual(rows(p), []);
      const report = JSON.parse(readFileSync(p.path('var/error/settle/settle_20261120.csv.error.json'), 'utf8')) as {
        problems: Array<{ line: number; column: string; message: string }>;
        sha256: string;
      };
      assert.deepEqual(
        report.problems.map((x) => [x.line, x.column]),
        [
          [3, 'amount'],
          [4, 'settled_at'],
        ],
      );
      assert.ok(existsSync(p.path('var/error/settle/settle_20261120.csv')));
      // Left on the partner's side (it was not consumed) and not retried until it changes.
      assert.ok(existsSync(p.path('bank/out/settle_20261120.csv')));
      const again = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(again.code, 0);
      assert.equal(again.result.outcome, 'waiting');
      // A corrected file is picked up.
      p.write('bank/out/settle_20261120.csv', GOOD);
      const fixed = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(fixed.result.outcome, 'ingested', fixed.stderr);
      assert.equal(rows(p).length, 3);
    } finally {
      p.remove();
    }
  });

  test('a sidecar bigger than a sidecar can be is a rejection, not read whole', async () => {
    const p = project(job({ checks: ", checksum: 'sha256-sidecar'" }));
    try {
      p.write('bank/out/settle_20261120.csv', 'settlement_id,amount,settled_at\nS1,1.50,2026-11-20 09:00:00\n');
      p.write('bank/out/settle_20261120.csv.sha256', 'f'.repeat(8 << 20));
      const r = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.result.error!, /sidecar .*settle_20261120\.csv\.sha256 is bigger than 4096 bytes/);
      assert.deepEqual(rows(p), []);
    } finally {
      p.remove();
    }
  });

  test('checks: minRows, sha256 sidecar and trailer reject before anything is written', async () => {
    const p = project(job({ checks: ", checksum: 'sha256-sidecar'", format: ", trailer: 'TOTAL,{count},{sum:amount}'" }));
    try {
      const body = 'settlement_id,amount,settled_at\nS1,1.50,2026-11-20 09:00:00\nS2,2.25,2026-11-20 10:00:00\n';
      p.write('bank/out/settle_20261120.csv', body + 'TOTAL,2,3.74\n');
      p.write('bank/out/settle_20261120.csv.sha256', '0'.repeat(64) + '  settle_20261120.csv\n');
      const r = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(r.code, 4);
      assert.match(r.result.error!, /sidecar says 0{64}/);
      const { createHash } = await import('node:crypto');
      const good = body + 'TOTAL,2,3.75\n';
      const wrongCount = body + 'TOTAL,3,3.75\n';
      p.write('bank/out/settle_20261120.csv', wrongCount);
      p.write('bank/out/settle_20261120.csv.sha256', createHash('sha256').update(wrongCount).digest('hex') + '  settle_20261120.csv\n');
      const bad = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(bad.code, 4);
      assert.match(bad.result.error!, /trailer says 3 rows but the file has 2/);
      assert.deepEqual(rows(p), []);
      p.write('bank/out/settle_20261120.csv', good);
      p.write('bank/out/settle_20261120.csv.sha256', createHash('sha256').update(good).digest('hex') + '  settle_20261120.csv\n');
      const ok = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(ok.result.outcome, 'ingested', JSON.stringify(ok.result));
      assert.equal(rows(p).length, 2);
      assert.ok(existsSync(p.path('bank/out/done/settle_20261120.csv.sha256')), 'the sidecar moves with the file');
    } finally {
      p.remove();
    }
  });
});

describe('import: custom ingest and size guard', () => {
  test('a custom ingest function runs in the same transaction: its writes and the marker commit together', async () => {
    const custom = job().replace(
      "load: { connection: 'ledger', table: 'settlements', mode: 'upsert', key: ['settlement_id'] },",
      `ingest: {
    connection: 'ledger',
    run: async (rows, trx, ctx) => {
      const knex = trx as { (table: string): { insert(row: object): Promise<unknown> } };
      for await (const r of rows) {
        await knex('settlements').insert({ settlement_id: String(r.settlement_id) + '@' + ctx.fileName, amount: String(r.amount), settled_at: String(r.settled_at) });
        if (r.settlement_id === 'S2' && process.env.FAIL_AFTER_S2) throw new Error('custom ingest failed on purpose');
      }
    },
  },`,
    );
    const p = project(custom);
    try {
      p.write('bank/out/settle_20261120.csv', GOOD);
      const failed = await run(p, ['run', 'settle', '--date', '2026-11-20'], { FAIL_AFTER_S2: '1' });
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.result.error!, /custom ingest failed on purpose/);
      assert.deepEqual(rows(p), [], 'the rows written before the failure were rolled back');
      const ok = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(ok.result.outcome, 'ingested', ok.stderr);
      assert.deepEqual(
        rows(p).map((r) => r.settlement_id),
        ['S1@settle_20261120.csv', 'S2@settle_20261120.csv', 'S3@settle_20261120.csv'],
      );
    } finally {
      p.remove();
    }
  });

  test('a file above maxBytes is refused without downloading it (exit 4)', async () => {
    const p = project(job({ fetch: ', maxBytes: 100' }));
    try {
      p.write('bank/out/settle_20261120.csv', GOOD);
      const r = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(r.code, 4);
      assert.match(r.result.error!, /more than fetch\.maxBytes \(100\); not downloaded/);
      assert.ok(existsSync(p.path('var/error/settle/settle_20261120.csv.error.json')));
      assert.ok(!existsSync(p.path('var/inbox/settle')) || readdirSync(p.path('var/inbox/settle')).length === 0);
      assert.deepEqual(rows(p), []);
    } finally {
      p.remove();
    }
  });
});

describe('import: completeness and deadlines', () => {
  test('waiting before the deadline (0), missing after it (3), late arrival ingested and marked late', async () => {
    const p = project(job({ deadline: '09:30' }));
    try {
      // A date far in the past: its deadline is long gone.
      const missing = await run(p, ['run', 'settle', '--date', '2026-01-05']);
      assert.equal(missing.code, 3, missing.stderr);
      assert.equal(missing.result.outcome, 'missing');
      assert.match(missing.stderr, /by the deadline 2026-01-05 09:30/);
      const st = JSON.parse((await runFerry(p.dir, ['--json', 'status', 'settle', '--days', '400'])).stdout) as { jobs: Array<{ cells: Array<{ date: string; status: string }> }> };
      assert.equal(st.jobs[0]!.cells.find((c) => c.date === '2026-01-05')!.status, 'missing');
      // A date in the future: its deadline has not come.
      const waiting = await run(p, ['run', 'settle', '--date', '2099-01-05']);
      assert.equal(waiting.code, 0);
      assert.equal(waiting.result.outcome, 'waiting');
      // The late file arrives.
      p.write('bank/out/settle_20260105.csv', GOOD);
      const late = await run(p, ['run', 'settle', '--date', '2026-01-05']);
      assert.equal(late.code, 0, late.stderr);
      assert.equal(late.result.outcome, 'ingested-late');
      assert.equal(late.result.received![0]!.late, true);
    } finally {
      p.remove();
    }
  });

  test('temporary names are never picked up; a done file gates reading', async () => {
    const p = project(job({ fetch: ", doneFile: '{file}.done'" }));
    try {
      p.write('bank/out/.settle_20261120.csv', GOOD);
      p.write('bank/out/settle_20261120.csv.part', GOOD);
      p.write('bank/out/settle_20261120.csv', GOOD);
      const a = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(a.result.outcome, 'waiting');
      assert.deepEqual(rows(p), []);
      p.write('bank/out/settle_20261120.csv.done', '');
      const b = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(b.result.outcome, 'ingested', b.stderr);
      assert.ok(existsSync(p.path('bank/out/done/settle_20261120.csv.done')), 'the done file moves with the data');
      assert.ok(existsSync(p.path('bank/out/settle_20261120.csv.part')));
    } finally {
      p.remove();
    }
  });

  test('a file still being written is not picked up until size and mtime are stable', async () => {
    const p = project(job({ stableFor: '2s' }));
    try {
      const path = p.path('bank/out/settle_20261120.csv');
      writeFileSync(path, GOOD.slice(0, 40));
      // A writer that keeps appending while the run watches.
      let i = 0;
      const timer = setInterval(() => {
        writeFileSync(path, GOOD.slice(0, Math.min(GOOD.length, 40 + ++i * 5)));
        utimesSync(path, new Date(), new Date(Date.now() + i * 1000));
      }, 300);
      const a = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      clearInterval(timer);
      assert.equal(a.result.outcome, 'waiting', JSON.stringify(a.result));
      assert.deepEqual(rows(p), []);
      writeFileSync(path, GOOD);
      const b = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(b.result.outcome, 'ingested', JSON.stringify(b.result));
    } finally {
      p.remove();
    }
  });

  test('without a done file and without stableFor, a file just written is not loaded at once (default window 30s)', async () => {
    const p = project(job({ stableFor: null }));
    try {
      // The partner's upload is under way: half the rows are there, mtime is now.
      p.write('bank/out/settle_20261120.csv', GOOD.slice(0, GOOD.indexOf('S3')));
      const child = spawn(process.execPath, [ferryBin, '--log-format', 'json', 'run', 'settle', '--date', '2026-11-20'], { cwd: p.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      // Resolves with the wait the run announced, or null when it ended without waiting.
      const waited = await new Promise<{ waitMs: number; stableForMs: number } | null>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const line = stderr.split('\n').find((l) => l.includes('waiting in this run for the file to stay unchanged'));
          if (line) resolve(JSON.parse(line) as { waitMs: number; stableForMs: number });
        });
        child.on('close', () => resolve(null));
      });
      const closed = new Promise((r) => child.on('close', r));
      try {
        assert.ok(waited, `the run did not wait for the file to be stable:\n${stderr}`);
        assert.equal(waited.stableForMs, 30_000);
        assert.ok(waited.waitMs > 25_000 && waited.waitMs <= 30_000, String(waited.waitMs));
        assert.deepEqual(rows(p), [], 'nothing loaded while the window runs');
        assert.ok(existsSync(p.path('bank/out/settle_20261120.csv')), 'the file stays where it is');
      } finally {
        if (child.exitCode === null) child.kill();
        await closed;
      }
    } finally {
      p.remove();
    }
  });

  test('a remote name that is not a safe file name is refused and never used as a path', async () => {
    const p = project(job().replace("file: 'settle_{date:yyyyMMdd}.csv'", "file: 'settle_*'"));
    try {
      p.write('bank/out/settle_a\nb.csv', GOOD);
      const r = await run(p, ['run', 'settle', '--date', '2026-11-20']);
      assert.equal(r.code, 4);
      assert.match(r.result.error!, /control character/);
      assert.deepEqual(rows(p), []);
      assert.ok(readdirSync(p.path('var/error/settle')).some((n) => /^unsafe-name-[0-9a-f]{16}\.error\.json$/.test(n)));
    } finally {
      p.remove();
    }
  });
});

describe('import: crashes and concurrency', () => {
  for (const point of ['import-after-download', 'receive-after-record', 'ingest-before-commit', 'ingest-after-commit', 'import-before-after-action']) {
    test(`kill -9 at ${point}, then run again: every row exactly once`, async () => {
      const p = project();
      try {
        p.write('bank/out/settle_20261120.csv', GOOD);
        const crashed = await runFerry(p.dir, ['run', 'settle', '--date', '2026-11-20'], { FERRY_CRASH_AT: point });
        assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
        const n = rows(p).length;
        assert.ok(n === 0 || n === 3, `all rows or none after the crash, got ${n}`);
        const r = await run(p, ['run', 'settle', '--date', '2026-11-20']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(rows(p).length, 3);
        assert.ok(existsSync(p.path('bank/out/done/settle_20261120.csv')));
        assert.ok(!existsSync(p.path('bank/out/settle_20261120.csv')));
        const again = await run(p, ['run', 'settle', '--date', '2026-11-20', '--force']);
        assert.equal(again.result.outcome, 'waiting', 'nothing left to ingest');
        assert.equal(rows(p).length, 3);
      } finally {
        p.remove();
      }
    });
  }

  test('two processes on the same inbox at the same time ingest each file once (insert mode)', async () => {
    const p = project(job({ load: "{ connection: 'ledger', table: 'settlements', mode: 'insert' }" }).replace("file: 'settle_{date:yyyyMMdd}.csv'", "file: 'settle_*.csv'"));
    try {
      for (let i = 0; i < 4; i++) p.write(`bank/out/settle_${i}.csv`, GOOD.replace(/S(\d)/g, `F${i}S$1`));
      const spawnRun = (date: string) =>
        new Promise<number | null>((resolve) => {
          const c = spawn(process.execPath, [ferryBin, '--quiet', 'run', 'settle', '--date', date], { cwd: p.dir, stdio: 'ignore' });
          c.on('close', resolve);
        });
      // Different dates: the lease does not serialise them; the marker and inbox must.
      const codes = await Promise.all([spawnRun('2026-11-20'), spawnRun('2026-11-21')]);
      assert.deepEqual(codes, [0, 0]);
      assert.equal(rows(p).length, 12);
    } finally {
      p.remove();
    }
  });
});

describe('import: operator commands', () => {
  test("check warns about stableFor '0s' without a done file, and still succeeds", async () => {
    const p = project(job({ stableFor: '0s' }));
    try {
      const c = await runFerry(p.dir, ['check']);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, /^warning: jobs\/settle\.ts: fetch\.stableFor: '0s' takes a file as soon as it is listed, even while the partner is still writing it/m);
      const j = await runFerry(p.dir, ['--json', 'check']);
      assert.equal((JSON.parse(j.stdout) as { warnings: string[] }).warnings.length, 1);
      // The default window and a done file need no warning.
      p.write('jobs/settle.ts', job({ stableFor: null }));
      assert.doesNotMatch((await runFerry(p.dir, ['check'])).stdout, /warning/);
      p.write('jobs/settle.ts', job({ fetch: ", doneFile: '{file}.done'" }));
      assert.doesNotMatch((await runFerry(p.dir, ['check'])).stdout, /warning/);
    } finally {
      p.remove();
    }
  });

  test('ingest --file by hand, refusing the same bytes twice unless --force; reingest replays the archive', async () => {
    const p = project();
    try {
      p.write('manual/settle_fix.csv', GOOD);
      const a = await run(p, ['ingest', 'settle', '--file', 'manual/settle_fix.csv', '--date', '2026-11-20']);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.result.outcome, 'ingested');
      const b = await run(p, ['ingest', 'settle', '--file', 'manual/settle_fix.csv', '--date', '2026-11-20']);
      assert.equal(b.result.outcome, 'duplicate');
      assert.ok(existsSync(p.path('manual/settle_fix.csv')), 'the operator keeps the original');
      // Change a row in the database, then reingest restores it from the archived file (upsert).
      const db = new Database(p.path('ledger.sqlite'));
      db.prepare("update settlements set amount = '0' where settlement_id = 'S1'").run();
      db.close();
      const c = await run(p, ['reingest', 'settle', '--date', '2026-11-20']);
      assert.equal(c.code, 0, c.stderr);
      assert.equal(c.result.outcome, 'ingested');
      assert.equal(rows(p).find((r) => r.settlement_id === 'S1')!.amount, '15000.00');
      const bad = await runFerry(p.dir, ['reingest', 'settle', '--date', '2026-10-01']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /no ingested file for 2026-10-01/);
      const wrong = await runFerry(p.dir, ['ingest', 'settle', '--file', 'manual/nope.csv']);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /cannot read manual\/nope\.csv/);
    } finally {
      p.remove();
    }
  });
});

