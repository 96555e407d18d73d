/**
 * A local connection reads, moves and deletes only regular files inside its root: a partner who
 * can plant links or FIFOs in the folder cannot make ferry read or touch anything else.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TransferError } from '../../src/errors.js';
import { LocalTransport } from '../../src/transports/local.js';

describe('local connection: only regular files inside the root', () => {
  let base: string;
  let root: string;
  let outside: string;
  let t: LocalTransport;
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'ferry-local-'));
    root = join(base, 'root');
    outside = join(base, 'outside');
    mkdirSync(join(root, 'incoming'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.csv'), 'id\n1\n');
    writeFileSync(join(root, 'incoming', 'ok.csv'), 'id\n2\n');
    symlinkSync(join(outside, 'secret.csv'), join(root, 'incoming', 'evil.csv'));
    symlinkSync(outside, join(root, 'linked'));
    execFileSync('mkfifo', [join(root, 'incoming', 'pipe.csv')]);
    t = new LocalTransport('drop', root);
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  const refused = (pattern: RegExp) => (e: unknown) => e instanceof TransferError && pattern.test(e.message);

  test('a listing reports links and FIFOs as not regular files', async () => {
    const entries = await t.list('incoming');
    const byName = Object.fromEntries(entries.map((e) => [e.name, e.isFile]));
    assert.deepEqual(byName, { 'evil.csv': false, 'ok.csv': true, 'pipe.csv': false });
  });

  test('a symbolic link is never read, and nothing is written for it', async () => {
    const dest = join(base, 'copy-evil');
    await assert.rejects(t.get('incoming/evil.csv', dest), refused(/symbolic link/));
    assert.equal(existsSync(dest), false);
    await assert.rejects(t.sha256('incoming/evil.csv'), refused(/symbolic link/));
  });

  test('a file reached through a linked folder is outside the root', async () => {
    await assert.rejects(t.get('linked/secret.csv', join(base, 'copy-linked')), refused(/outside the connection's root/));
  });

  test('a FIFO is refused at once instead of blocking the read', async () => {
    await assert.rejects(t.get('incoming/pipe.csv', join(base, 'copy-pipe')), refused(/not a regular file/));
  });

  test('remove and rename never act through a link or a linked folder', async () => {
    await assert.rejects(t.remove('linked/secret.csv'), refused(/outside the connection's root/));
    await assert.rejects(t.remove('incoming/evil.csv'), refused(/not a regular file/));
    await assert.rejects(t.rename('incoming/evil.csv', 'incoming/moved.csv', { overwrite: true }), refused(/not a regular file/));
    await assert.rejects(t.rename('incoming/ok.csv', 'linked/taken.csv', { overwrite: true }), refused(/outside the connection's root/));
    assert.equal(readFileSync(join(outside, 'secret.csv'), 'utf8'), 'id\n1\n');
    assert.equal(existsSync(join(outside, 'taken.csv')), false);
    assert.equal(existsSync(join(root, 'incoming', 'ok.csv')), true);
  });

  test('a name swapped for a link after the listing is refused when opened', async () => {
    writeFileSync(join(root, 'incoming', 'swap.csv'), 'id\n3\n');
    const listed = (await t.list('incoming')).find((e) => e.name === 'swap.csv');
    assert.equal(listed?.isFile, true);
    unlinkSync(join(root, 'incoming', 'swap.csv'));
    symlinkSync('/etc/passwd', join(root, 'incoming', 'swap.csv'));
    await assert.rejects(t.get('incoming/swap.csv', join(base, 'copy-swap')), refused(/symbolic link/));
  });

  test('a regular file is read, and a download stops at maxBytes', async () => {
    const dest = join(base, 'copy-ok');
    const got = await t.get('incoming/ok.csv', dest);
    assert.equal(got.size, 5);
    assert.equal(readFileSync(dest, 'utf8'), 'id\n2\n');
    await assert.rejects(t.get('incoming/ok.csv', join(base, 'copy-big'), { maxBytes: 3 }), refused(/more than 3 bytes/));
  });

  test('a delivery never writes through a link planted under the final name', async () => {
    mkdirSync(join(root, 'out'));
    const src = join(base, 'payload.csv');
    writeFileSync(src, 'x\n');
    symlinkSync(join(outside, 'target.csv'), join(root, 'out', 'final.csv'));
    await assert.rejects(t.put(src, 'out/final.csv'));
    await assert.rejects(t.put(src, 'linked/final.csv'), refused(/outside the connection's root/));
    assert.equal(existsSync(join(outside, 'target.csv')), false);
    assert.equal(existsSync(join(outside, 'final.csv')), false);
  });
});
