/**
 * FTPS through the whole command line against a real vsftpd (explicit TLS, session reuse
 * required): an export delivers, an import fetches, `check` shows the certificate, and an
 * untrusted certificate is refused unless its CA is configured.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ORDERS_JOB_TS, runFerry, SHOP_SQL, sqliteFromSql, tempProject, type TempProject } from '../helpers/project.js';
import { startVsftpd, type FtpServer } from '../helpers/vsftpd.js';

describe('FTPS from the command line', () => {
  let ftp: FtpServer;
  let p: TempProject;

  const config = (withCa: boolean) => `
import { defineConfig, env, file } from 'ferry';
export default defineConfig({
  timezone: 'Asia/Seoul',
  connections: {
    shop: { type: 'database', client: 'sqlite', connection: 'shop.sqlite' },
    bank: { type: 'ftp', host: '127.0.0.1', port: ${ftp.port}, user: '${ftp.user}', password: env('BANK_PW'), secure: 'explicit'${withCa ? ", ca: file('ca.pem')" : ''} },
  },
  retry: { tries: 2, baseDelayMs: 10, maxDelayMs: 20 },
});
`;

  before(async () => {
    ftp = await startVsftpd({ tls: true });
    p = tempProject({
      'ferry.config.ts': config(true),
      'ca.pem': ftp.caPem,
      'jobs/orders.ts': ORDERS_JOB_TS.replace("connection: 'partner', dir: 'in', mkdir: true", "connection: 'bank', dir: 'inbound', mkdir: true"),
      'jobs/settle.ts': `import { defineImport } from 'ferry';
export default defineImport({
  businessDate: 'today',
  fetch: { connection: 'bank', dir: 'outbound', file: 'settle_*.csv', after: 'delete', stableFor: '0s' },
  format: { type: 'csv', columns: { id: 'int', amount: 'decimal' } },
  load: { connection: 'shop', table: 'settle', mode: 'insert' },
});`,
    });
    sqliteFromSql(p.path('shop.sqlite'), SHOP_SQL + 'create table settle (id integer, amount text);');
  });
  after(async () => {
    p?.remove();
    await ftp?.stop();
  });
  const env = () => ({ BANK_PW: ftp.password });

  test('an export delivers over FTPS with sidecar and done file', async () => {
    const r = await runFerry(p.dir, ['--json', 'run', 'orders', '--date', '2026-11-20'], env());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const remote = join(ftp.root, 'inbound/orders_20261120.csv');
    assert.equal(readFileSync(remote, 'utf8'), readFileSync(p.path('var/archive/orders/2026/11/orders_20261120.csv'), 'utf8'));
    assert.ok(existsSync(`${remote}.sha256`) && existsSync(`${remote}.done`));
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(ftp.password));
  });

  test('an import fetches over FTPS, ingests once and deletes the remote file', async () => {
    mkdirSync(join(ftp.root, 'outbound'), { recursive: true });
    writeFileSync(join(ftp.root, 'outbound/settle_1.csv'), 'id,amount\n1,10.50\n');
    chmodSync(join(ftp.root, 'outbound'), 0o777);
    chmodSync(join(ftp.root, 'outbound/settle_1.csv'), 0o666);
    const r = await runFerry(p.dir, ['--json', 'run', 'settle', '--date', '2026-11-20'], env());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const db = new Database(p.path('shop.sqlite'), { readonly: true });
    assert.deepEqual(db.prepare('select id, amount from settle').all(), [{ id: 1, amount: '10.50' }]);
    db.close();
    assert.ok(!existsSync(join(ftp.root, 'outbound/settle_1.csv')));
  });

  test('check shows TLS and the certificate', async () => {
    const r = await runFerry(p.dir, ['check'], env());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /bank\s+ftp\s+yes\s+.*TLSv1\.[23]/);
  });

  test('without the CA the server certificate is refused (exit 1), naming the certificate and ca', async () => {
    const q = tempProject({ 'ferry.config.ts': config(false), 'jobs/orders.ts': ORDERS_JOB_TS.replace("connection: 'partner', dir: 'in', mkdir: true", "connection: 'bank', dir: 'x', mkdir: true") });
    sqliteFromSql(q.path('shop.sqlite'), SHOP_SQL);
    try {
      const r = await runFerry(q.dir, ['run', 'orders', '--date', '2026-11-20'], env());
      assert.equal(r.code, 1);
      assert.match(r.stdout + r.stderr, /certificate/i);
      assert.match(r.stdout + r.stderr, /\bca\b/);
    } finally {
      q.remove();
    }
  });
});
