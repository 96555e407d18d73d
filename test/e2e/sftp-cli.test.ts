/**
 * SFTP through the whole command line against a real OpenSSH sshd: an export delivers, an import
 * fetches and moves, `check` shows the fingerprint, and refusals end in exit 1 with the presented
 * fingerprint and without the password anywhere in the output.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ORDERS_JOB_TS, runFerry, SHOP_SQL, sqliteFromSql, tempProject, type TempProject } from '../helpers/project.js';
import { startSshd, type SshdServer } from '../helpers/sshd.js';

describe('SFTP from the command line', () => {
  let sshd: SshdServer;
  let p: TempProject;

  const config = (hostKey: string) => `
import { defineConfig, env } from 'ferry';
export default defineConfig({
  timezone: 'Asia/Seoul',
  connections: {
    shop: { type: 'database', client: 'sqlite', connection: 'shop.sqlite' },
    partner: { type: 'sftp', host: '127.0.0.1', port: ${sshd.port}, username: '${sshd.user}', password: env('PARTNER_PW'), hostKey: '${hostKey}' },
  },
  retry: { tries: 2, baseDelayMs: 10, maxDelayMs: 20 },
});
`;

  before(async () => {
    sshd = await startSshd();
    p = tempProject({
      'ferry.config.ts': config(sshd.hostKeyFingerprint),
      'jobs/orders.ts': ORDERS_JOB_TS.replace("connection: 'partner', dir: 'in', mkdir: true", "connection: 'partner', dir: 'inbound/orders', mkdir: true"),
      'jobs/settle.ts': `import { defineImport } from 'ferry';
export default defineImport({
  businessDate: 'today',
  fetch: { connection: 'partner', dir: 'outbound', file: 'settle_{date:yyyyMMdd}.csv', after: { moveTo: 'outbound/done' }, stableFor: '0s' },
  format: { type: 'csv', columns: { id: 'int', amount: 'decimal' } },
  load: { connection: 'shop', table: 'settle', mode: 'insert' },
});`,
    });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL + 'create table settle (id integer, amount text);');
  });
  after(async () => {
    p?.remove();
    await sshd?.stop();
  });

  const env = () => ({ PARTNER_PW: sshd.password });

  test('an export delivers atomically to the SFTP server with sidecar and done file', async () => {
    const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20'], env());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const remote = join(sshd.root, 'inbound/orders/orders_20261120.csv');
    assert.equal(readFileSync(remote, 'utf8'), readFileSync(p.path('var/archive/orders/2026/11/orders_20261120.csv'), 'utf8'));
    assert.ok(existsSync(`${remote}.sha256`) && existsSync(`${remote}.done`));
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(sshd.password));
  });

  test('an import fetches from the SFTP server, ingests once and moves the file', async () => {
    const { mkdirSync, writeFileSync, chmodSync } = await import('node:fs');
    mkdirSync(join(sshd.root, 'outbound'), { recursive: true });
    writeFileSync(join(sshd.root, 'outbound/settle_20261120.csv'), 'id,amount\n1,10.50\n2,-3.00\n');
    chmodSync(join(sshd.root, 'outbound'), 0o777);
    chmodSync(join(sshd.root, 'outbound/settle_20261120.csv'), 0o666);
    const r = await runFerry(p.dir, ['--json', 'run', 'settle', '--date', '2026-11-20'], env());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const db = new Database(p.path('shop.sqlite'), { readonly: true });
    assert.deepEqual(db.prepare('select id, amount from settle order by id').all(), [
      { id: 1, amount: '10.50' },
      { id: 2, amount: '-3.00' },
    ]);
    db.close();
    assert.ok(existsSync(join(sshd.root, 'outbound/done/settle_20261120.csv')));
    assert.ok(!existsSync(join(sshd.root, 'outbound/settle_20261120.csv')));
  });

  test('check shows the host key and the server capabilities', async () => {
    const r = await runFerry(p.dir, ['check'], env());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`partner\\s+sftp\\s+yes\\s+.*${sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}`));
    assert.match(r.stdout, /posix-rename/);
  });

  test('a changed host key is refused (exit 1) and the presented fingerprint is printed', async () => {
    const q = tempProject({ 'ferry.config.ts': config(`SHA256:${'A'.repeat(43)}`), 'jobs/orders.ts': ORDERS_JOB_TS.replace("connection: 'partner', dir: 'in', mkdir: true", "connection: 'partner', dir: 'x', mkdir: true") });
    sqliteFromSql(q.path('shop.sqlite'), SHOP_SQL);
    try {
      const r = await runFerry(q.dir, ['run', 'orders', '--date', '2026-11-20'], env());
      assert.equal(r.code, 1);
      assert.match(r.stdout + r.stderr, new RegExp(sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')));
      const c = await runFerry(q.dir, ['check'], env());
      assert.equal(c.code, 1);
      assert.match(c.stdout, new RegExp(sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')));
    } finally {
      q.remove();
    }
  });

  test('a wrong password: exit 1, a clear message, the password in no output', async () => {
    const wrong = 'NotThePassword-12345';
    const r = await runFerry(p.dir, ['--verbose', 'run', 'orders', '--date', '2026-11-21'], { PARTNER_PW: wrong });
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /authentication failed for user/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(wrong));
  });
});
