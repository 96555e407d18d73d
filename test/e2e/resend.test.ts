/** `ferry resend`: the archived bytes again, same name, recorded as a resend. */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, unlinkSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { CONFIG_TS, ORDERS_JOB_TS, runFerry, SHOP_SQL, sqliteFromSql, tempProject, type TempProject } from '../helpers/project.js';

interface History {
  attempts: Array<{ outcome: string | null; files: Array<{ deliveries: Array<{ status: string; resend: boolean }> }> }>;
}

describe('ferry resend', () => {
  let p: TempProject;
  let original: string;
  before(async () => {
    p = tempProject({ 'ferry.config.ts': CONFIG_TS, 'jobs/orders.ts': ORDERS_JOB_TS });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL);
    const r = await runFerry(p.dir, ['run', 'orders', '--date', '2026-11-20']);
    assert.equal(r.code, 0, r.stderr);
    original = readFileSync(p.path('partner/in/orders_20261120.csv'), 'utf8');
  });
  after(() => p.remove());

  test('delivers the archived bytes again after the partner lost the file, without querying', async () => {
    unlinkSync(p.path('partner/in/orders_20261120.csv'));
    // The source changed since: a resend must not pick that up.
    sqliteFromSql(p.path('shop.sqlite'), "insert into orders values (8, 'new', '1', 1, '2026-11-20 10:00:00')");
    const r = await runFerry(p.dir, ['--json', 'resend', 'orders', '--date', '2026-11-20']);
    assert.equal(r.code, 0, r.stderr);
    const res = (JSON.parse(r.stdout) as { results: Array<{ outcome: string; deliveries: Array<{ outcome: string }> }> }).results[0]!;
    assert.equal(res.outcome, 'resent');
    assert.equal(res.deliveries[0]!.outcome, 'delivered');
    assert.equal(readFileSync(p.path('partner/in/orders_20261120.csv'), 'utf8'), original);
    const h = JSON.parse((await runFerry(p.dir, ['--json', 'history', 'orders'])).stdout) as History;
    assert.equal(h.attempts[0]!.outcome, 'resent');
    const all = h.attempts.flatMap((a) => a.files.flatMap((f) => f.deliveries));
    assert.equal(all.filter((d) => d.resend && d.status === 'delivered').length, 1);
  });

  test('uploads again even when the partner still has the same bytes', async () => {
    const r = await runFerry(p.dir, ['--json', 'resend', 'orders', '--date', '2026-11-20', '--to', 'partner']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { results: Array<{ deliveries: Array<{ outcome: string }> }> }).results[0]!.deliveries[0]!.outcome, 'delivered');
  });

  test('usage errors and missing files are clear', async () => {
    const a = await runFerry(p.dir, ['resend', 'orders', '--date', '2026-11-20', '--to', 'elsewhere']);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /does not deliver to 'elsewhere'; its destinations are partner/);
    const b = await runFerry(p.dir, ['resend', 'orders']);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /resend needs --date/);
    const c = await runFerry(p.dir, ['resend', 'orders', '--date', '2026-10-01']);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /no archived file for 2026-10-01; run it first/);
  });

  test('a changed archive is refused (exit 1), nothing is delivered', async () => {
    const archive = p.path('var/archive/orders/2026/11/orders_20261120.csv');
    appendFileSync(archive, 'tampered\n');
    unlinkSync(p.path('partner/in/orders_20261120.csv'));
    const r = await runFerry(p.dir, ['--json', 'resend', 'orders', '--date', '2026-11-20']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /archived file var\/archive\/orders\/2026\/11\/orders_20261120\.csv is changed/);
    assert.throws(() => readFileSync(p.path('partner/in/orders_20261120.csv')));
  });
});
