import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deliverFile, type DeliverySource } from '../../src/core/deliver.js';
import { TargetExistsError } from '../../src/errors.js';
import { sha256File } from '../../src/fsutil.js';
import { LocalTransport } from '../../src/transports/local.js';

let dir: string;
let root: string;
let src: DeliverySource;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-deliver-'));
  root = join(dir, 'partner');
  const local = join(dir, 'orders.csv');
  await writeFile(local, 'id,amount\n1,2.50\n');
  const w = await sha256File(local);
  src = { localPath: local, name: 'orders.csv', size: w.size, sha256: w.sha256 };
});
after(() => rm(dir, { recursive: true, force: true }));

const target = (sub: string, ifExists: 'fail' | 'overwrite' | 'skip' = 'fail') => ({
  dir: sub,
  ifExists,
  mkdir: true,
  checksum: true,
  doneName: 'orders.csv.done',
});

test('delivers data, then sidecar and done file, leaving no temporary files', async () => {
  const t = new LocalTransport('partner', root);
  const r = await deliverFile(t, src, target('in/a'));
  assert.equal(r.outcome, 'delivered');
  assert.equal(r.remotePath, 'in/a/orders.csv');
  assert.equal(await readFile(join(root, 'in/a/orders.csv'), 'utf8'), 'id,amount\n1,2.50\n');
  assert.equal(await readFile(join(root, 'in/a/orders.csv.sha256'), 'utf8'), `${src.sha256}  orders.csv\n`);
  assert.equal(await readFile(join(root, 'in/a/orders.csv.done'), 'utf8'), '');
  assert.deepEqual((await readdir(join(root, 'in/a'))).sort(), ['orders.csv', 'orders.csv.done', 'orders.csv.sha256']);
});

test('a target that already holds our bytes counts as delivered (crash after rename)', async () => {
  const t = new LocalTransport('partner', root);
  await deliverFile(t, src, target('in/b'));
  const again = await deliverFile(t, src, target('in/b'));
  assert.equal(again.outcome, 'already-there');
});

test('ifExists decides what happens when other bytes hold the name', async () => {
  const t = new LocalTransport('partner', root);
  await t.mkdir('in/c');
  await writeFile(join(root, 'in/c/orders.csv'), 'someone else\n');
  await assert.rejects(deliverFile(t, src, target('in/c', 'fail')), (e) => e instanceof TargetExistsError && /already exists with other content/.test(e.message));
  assert.equal(await readFile(join(root, 'in/c/orders.csv'), 'utf8'), 'someone else\n');
  const skipped = await deliverFile(t, src, target('in/c', 'skip'));
  assert.equal(skipped.outcome, 'skipped-exists');
  assert.equal(await readFile(join(root, 'in/c/orders.csv'), 'utf8'), 'someone else\n');
  const over = await deliverFile(t, src, target('in/c', 'overwrite'));
  assert.equal(over.outcome, 'delivered');
  assert.equal(await readFile(join(root, 'in/c/orders.csv'), 'utf8'), 'id,amount\n1,2.50\n');
  assert.deepEqual((await readdir(join(root, 'in/c'))).filter((n) => n.startsWith('.')), []);
});

test('the local transport refuses paths outside its root', async () => {
  const t = new LocalTransport('partner', root);
  await assert.rejects(t.stat('../../etc/passwd'), /outside the connection's root/);
  await assert.rejects(deliverFile(t, src, target('../escape')), /outside the connection's root/);
});
