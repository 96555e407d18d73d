/**
 * SFTP transport against a real OpenSSH sshd on 127.0.0.1 (test/helpers/sshd.ts), with the
 * loopback proxy (test/helpers/proxy.ts) for cut and stalled connections. The server's upload
 * folder is read directly to compare bytes with what the transport reports.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deliverFile, type DeliverySource, type DeliveryTarget } from '../../src/core/deliver.js';
import { withRetry } from '../../src/core/retry.js';
import { ConfigError, DownloadLimitError, TargetExistsError, TransferError } from '../../src/errors.js';
import { sha256File } from '../../src/fsutil.js';
import { createLogger } from '../../src/log.js';
import { createSftpTransport } from '../../src/transports/sftp.js';
import type { Transport } from '../../src/transports/types.js';
import type { SftpConnection } from '../../src/types.js';
import { startProxy, type Proxy } from '../helpers/proxy.js';
import { startSshd, type SshdServer } from '../helpers/sshd.js';

let srv: SshdServer;
let work: string;
let logs: string[] = [];
const open: Transport[] = [];
const proxies: Proxy[] = [];
const log = createLogger({ format: 'json', level: 'debug', write: (line) => logs.push(line) });

before(async () => {
  srv = await startSshd();
  work = await mkdtemp(join(tmpdir(), 'ferry-sftp-test-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});
after(async () => {
  await srv?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A transport logging in with the test password and the pinned host key, closed after each test. */
function sftp(over: Partial<SftpConnection> = {}, port = srv.port): Transport {
  const conn: SftpConnection = {
    type: 'sftp',
    host: '127.0.0.1',
    port,
    username: srv.user,
    password: srv.password,
    hostKey: srv.hostKeyFingerprint,
    ...over,
  };
  const t = createSftpTransport('partner', conn, { projectDir: work, log });
  open.push(t);
  return t;
}

async function proxy(): Promise<Proxy> {
  const p = await startProxy(srv.port);
  proxies.push(p);
  return p;
}

/** A local file of `size` random bytes. */
async function randomFile(name: string, size: number): Promise<DeliverySource> {
  const path = join(work, name);
  const out = createWriteStream(path);
  for (let left = size; left > 0; ) {
    const n = Math.min(left, 4 << 20);
    if (!out.write(randomBytes(n))) await once(out, 'drain');
    left -= n;
  }
  out.end();
  await once(out, 'close');
  const w = await sha256File(path);
  return { localPath: path, name, size: w.size, sha256: w.sha256 };
}

const serverPath = (p: string) => join(srv.root, p);
const isTransient = (e: unknown) => e instanceof TransferError && e.transient;

async function roundTrip(t: Transport, src: DeliverySource, remote: string) {
  await t.put(src.localPath, remote);
  const back = join(work, `back-${randomBytes(4).toString('hex')}`);
  try {
    const got = await t.get(remote, back);
    assert.equal(got.size, src.size);
    assert.equal(got.sha256, src.sha256, 'sha256 reported by get()');
    assert.equal((await sha256File(back)).sha256, src.sha256, 'sha256 of the downloaded file');
    assert.equal((await sha256File(serverPath(remote))).sha256, src.sha256, 'sha256 of the file on the server');
  } finally {
    await rm(back, { force: true });
  }
}

for (const transfer of ['fast', 'stream'] as const) {
  describe(`round trips (${transfer})`, () => {
    test('a name with spaces and Korean characters', async () => {
      const t = sftp({ transfer });
      const src = await randomFile(`local-${transfer}.csv`, 100_003);
      const name = `주문 목록 2026 ${transfer}.csv`;
      await roundTrip(t, src, name);
      assert.ok((await t.list('.')).some((e) => e.name === name && e.size === src.size && e.isFile));
    });

    test('a download stops at maxBytes, is never retried and leaves no local file', async () => {
      const t = sftp({ transfer });
      const src = await randomFile(`bounded-${transfer}.bin`, 300_000);
      await t.put(src.localPath, `bounded-${transfer}.bin`);
      const back = join(work, `bounded-back-${transfer}`);
      await assert.rejects(t.get(`bounded-${transfer}.bin`, back, { maxBytes: 100_000 }), (e) => e instanceof DownloadLimitError && !e.transient && /more than 100000/.test(e.message));
      assert.equal(existsSync(back), false, 'the partial download is removed');
      const got = await t.get(`bounded-${transfer}.bin`, back, { maxBytes: 300_000 });
      assert.equal(got.sha256, src.sha256, 'a file exactly at the bound is whole');
      await rm(back, { force: true });
    });

    test('an empty file', async () => {
      const t = sftp({ transfer });
      const src = await randomFile(`empty-${transfer}`, 0);
      await roundTrip(t, src, `empty-${transfer}.csv`);
    });

    test('a 200 MB file', async () => {
      const t = sftp({ transfer });
      const src = await randomFile(`big-${transfer}.bin`, 200 * 1024 * 1024);
      const progress: number[] = [];
      try {
        const started = Date.now();
        await t.put(src.localPath, `big-${transfer}.bin`, { onProgress: (n) => progress.push(n) });
        const up = Date.now() - started;
        assert.equal(progress.at(-1), src.size, 'progress reaches the file size');
        await roundTrip(t, src, `big-${transfer}.bin`);
        log.info({ transfer, uploadMs: up }, 'sftp 200 MB');
      } finally {
        await rm(src.localPath, { force: true });
        await rm(serverPath(`big-${transfer}.bin`), { force: true });
      }
    });
  });
}

describe('authentication', () => {
  test('password', async () => {
    const rows = await sftp().describe();
    assert.match(rows.find(([k]) => k === 'auth')?.[1] ?? '', /^ok as ferrytest \(password\)$/);
  });

  test('ed25519 key', async () => {
    const rows = await sftp({ password: undefined, privateKey: srv.privateKeyPem }).describe();
    assert.match(rows.find(([k]) => k === 'auth')?.[1] ?? '', /publickey \(ssh-ed25519\)/);
  });

  test('encrypted RSA key with passphrase', async () => {
    const rows = await sftp({ password: undefined, privateKey: srv.rsaKeyPem, passphrase: srv.rsaPassphrase }).describe();
    assert.match(rows.find(([k]) => k === 'auth')?.[1] ?? '', /publickey \(ssh-rsa\)/);
  });

  test('ssh-agent, by socket path and by SSH_AUTH_SOCK', async () => {
    const sock = join(work, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !(await stat(sock).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 50));
      const add = spawn('ssh-add', ['-q', srv.privateKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      assert.equal((await once(add, 'exit'))[0], 0, 'ssh-add');
      const rows = await sftp({ password: undefined, agent: sock }).describe();
      assert.match(rows.find(([k]) => k === 'auth')?.[1] ?? '', /\(agent\)$/);
      const saved = process.env.SSH_AUTH_SOCK;
      process.env.SSH_AUTH_SOCK = sock;
      try {
        await sftp({ password: undefined, agent: true }).describe();
      } finally {
        if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = saved;
      }
    } finally {
      agent.kill();
    }
  });

  test('a wrong passphrase is a config error that names the field', async () => {
    await assert.rejects(
      sftp({ password: undefined, privateKey: srv.rsaKeyPem, passphrase: 'not-the-passphrase' }).describe(),
      (e) => e instanceof ConfigError && /connections\.partner\.privateKey/.test(e.message),
    );
  });

  test('a wrong password fails permanently, clearly, and is never printed', async () => {
    logs = [];
    const wrong = `Wr0ng-${randomBytes(6).toString('hex')}`;
    const t = sftp({ password: wrong });
    const err = await t.describe().then(
      () => assert.fail('logged in with a wrong password'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TransferError);
    assert.equal(err.transient, false);
    assert.match(err.message, /^sftp partner: authentication failed for user 'ferrytest' \(methods tried: password; server accepts: [a-z, -]+\)$/);
    // Also through every later attempt and every cause in the chain.
    await assert.rejects(t.list('.'), (e) => e instanceof TransferError && !e.transient);
    for (let c: unknown = err; c; c = (c as Error).cause) assert.ok(!String((c as Error).message).includes(wrong), 'password in an error message');
    assert.ok(!logs.join('').includes(wrong), 'password in a log line');
    assert.ok(!logs.join('').includes(srv.password), 'real password in a log line');
  });
});

describe('host key', () => {
  const other = 'SHA256:' + 'Q'.repeat(43);

  test('a pinned fingerprint is accepted', async () => {
    const rows = await sftp().describe();
    assert.deepEqual(rows.find(([k]) => k === 'host key trusted'), ['host key trusted', 'yes (pinned)']);
  });

  test('a list of fingerprints with the right one among them is accepted', async () => {
    await sftp({ hostKey: [other, srv.hostKeyFingerprint] }).describe();
  });

  test('a wrong fingerprint is refused and the error shows the presented one', async () => {
    const err = await sftp({ hostKey: other })
      .describe()
      .then(
        () => assert.fail('connected despite a wrong host key'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof TransferError);
    assert.equal(err.transient, false);
    assert.ok(err.message.includes(srv.hostKeyFingerprint), err.message);
    assert.ok(err.message.includes(`expected ${other}`), err.message);
    assert.ok(err.message.includes(`pin it with hostKey: '${srv.hostKeyFingerprint}'`), err.message);
  });

  test('no hostKey and no knownHosts: refused, with the fingerprint to pin', async () => {
    await assert.rejects(sftp({ hostKey: undefined }).describe(), (e) => e instanceof TransferError && e.message.includes(srv.hostKeyFingerprint) && /no hostKey or knownHosts/.test(e.message));
  });

  test('a known_hosts file with the [host]:port entry is accepted', async () => {
    await writeFile(join(work, 'known_hosts'), `# partner\nother.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGedSJJlfKCWKqC0EChEUmtHn5oDoH/jrPGmVm1xQKfQ\n${srv.knownHostsLine}\n`);
    const rows = await sftp({ hostKey: undefined, knownHosts: 'known_hosts' }).describe();
    assert.deepEqual(rows.find(([k]) => k === 'host key trusted'), ['host key trusted', 'yes (known_hosts)']);
  });

  test('a hashed known_hosts entry (ssh-keygen -H) is accepted', async () => {
    const file = join(work, 'known_hosts_hashed');
    await writeFile(file, `${srv.knownHostsLine}\n`);
    const r = spawn('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    assert.equal((await once(r, 'exit'))[0], 0);
    assert.match(await readFile(file, 'utf8'), /^\|1\|/);
    await sftp({ hostKey: undefined, knownHosts: 'known_hosts_hashed' }).describe();
  });

  test('known_hosts without this host is refused; @revoked refuses even a pinned key', async () => {
    await writeFile(join(work, 'known_hosts_other'), srv.knownHostsLine.replace(/^\S+/, '[127.0.0.1]:1') + '\n');
    await assert.rejects(sftp({ hostKey: undefined, knownHosts: 'known_hosts_other' }).describe(), (e) => e instanceof TransferError && /has no entry for \[127\.0\.0\.1\]:\d+/.test(e.message) && e.message.includes(srv.hostKeyFingerprint));
    await writeFile(join(work, 'known_hosts_revoked'), `@revoked ${srv.knownHostsLine}\n`);
    await assert.rejects(sftp({ knownHosts: 'known_hosts_revoked' }).describe(), (e) => e instanceof TransferError && /@revoked/.test(e.message));
  });

  test('insecureSkipHostKeyCheck connects and warns with the presented fingerprint on every connect', async () => {
    logs = [];
    const t = sftp({ hostKey: undefined, insecureSkipHostKeyCheck: true });
    await t.describe();
    await t.close();
    await t.describe();
    const warnings = logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((r) => r.level === 40 && r.msg.includes(srv.hostKeyFingerprint));
    assert.equal(warnings.length, 2, logs.join(''));
    assert.match(warnings[0]?.msg ?? '', /insecureSkipHostKeyCheck/);
  });
});

describe('atomic delivery', () => {
  const target = (dir: string, ifExists: DeliveryTarget['ifExists'] = 'fail'): DeliveryTarget => ({
    dir,
    ifExists,
    mkdir: true,
    checksum: true,
    doneName: 'orders.csv.done',
  });

  test('the server advertises posix-rename', async () => {
    const rows = await sftp().describe();
    assert.deepEqual(rows.find(([k]) => k === 'posix-rename'), ['posix-rename', 'yes']);
  });

  test('file, sidecar and done file appear under their final names only, in nested new folders', async () => {
    const t = sftp();
    await writeFile(join(work, 'orders.csv'), 'id,amount\n1,2.50\n');
    const w = await sha256File(join(work, 'orders.csv'));
    const src = { localPath: join(work, 'orders.csv'), name: 'orders.csv', size: w.size, sha256: w.sha256 };
    const r = await deliverFile(t, src, target('out/2026/11'));
    assert.equal(r.outcome, 'delivered');
    assert.deepEqual((await readdir(serverPath('out/2026/11'))).sort(), ['orders.csv', 'orders.csv.done', 'orders.csv.sha256']);
    assert.equal(await readFile(serverPath('out/2026/11/orders.csv'), 'utf8'), 'id,amount\n1,2.50\n');
    assert.equal(await readFile(serverPath('out/2026/11/orders.csv.sha256'), 'utf8'), `${w.sha256}  orders.csv\n`);
    assert.equal((await deliverFile(t, src, target('out/2026/11'))).outcome, 'already-there');
  });

  test('ifExists: fail, skip and overwrite (through posix-rename)', async () => {
    const t = sftp();
    await writeFile(join(work, 'orders.csv'), 'id,amount\n1,2.50\n');
    const w = await sha256File(join(work, 'orders.csv'));
    const src = { localPath: join(work, 'orders.csv'), name: 'orders.csv', size: w.size, sha256: w.sha256 };
    await t.mkdir('exists');
    await writeFile(serverPath('exists/orders.csv'), 'someone else wrote this\n');
    await assert.rejects(deliverFile(t, src, target('exists', 'fail')), TargetExistsError);
    assert.equal((await deliverFile(t, src, target('exists', 'skip'))).outcome, 'skipped-exists');
    assert.equal(await readFile(serverPath('exists/orders.csv'), 'utf8'), 'someone else wrote this\n');
    assert.equal((await deliverFile(t, src, target('exists', 'overwrite'))).outcome, 'delivered');
    assert.equal(await readFile(serverPath('exists/orders.csv'), 'utf8'), 'id,amount\n1,2.50\n');
    assert.deepEqual((await readdir(serverPath('exists'))).sort(), ['orders.csv', 'orders.csv.done', 'orders.csv.sha256']);
  });
});

describe('remote file operations', () => {
  test('list, stat, rename, remove, mkdir', async () => {
    const t = sftp();
    await t.mkdir('ops/a/b');
    await t.mkdir('ops/a/b'); // exists: no error
    await writeFile(join(work, 'one'), '1');
    await t.put(join(work, 'one'), 'ops/a/one.txt');
    await t.put(join(work, 'one'), 'ops/a/two.txt');

    const st = await t.stat('ops/a/one.txt');
    assert.equal(st?.size, 1);
    assert.equal(st?.isFile, true);
    assert.equal(st?.path, 'ops/a/one.txt');
    assert.ok(Math.abs((st?.mtime ?? 0) - Date.now()) < 60_000, 'mtime in ms');
    assert.equal(await t.stat('ops/a/missing'), undefined);
    assert.equal((await t.stat('ops/a/b'))?.isFile, false);

    const entries = (await t.list('ops/a')).sort((x, y) => x.name.localeCompare(y.name));
    assert.deepEqual(
      entries.map((e) => [e.name, e.path, e.isFile]),
      [
        ['b', 'ops/a/b', false],
        ['one.txt', 'ops/a/one.txt', true],
        ['two.txt', 'ops/a/two.txt', true],
      ],
    );

    await assert.rejects(t.rename('ops/a/one.txt', 'ops/a/two.txt', { overwrite: false }), TargetExistsError);
    await t.rename('ops/a/one.txt', 'ops/a/three.txt', { overwrite: false });
    await t.rename('ops/a/three.txt', 'ops/a/two.txt', { overwrite: true });
    assert.deepEqual((await readdir(serverPath('ops/a'))).sort(), ['b', 'two.txt']);

    await t.remove('ops/a/two.txt');
    await t.remove('ops/a/two.txt'); // already gone: no error
    assert.equal(await t.stat('ops/a/two.txt'), undefined);
    await assert.rejects(t.list('ops/nowhere'), (e) => e instanceof TransferError && /no such file/.test(e.message) && !e.transient);
    await assert.rejects(t.get('ops/nowhere.csv', join(work, 'nowhere')), (e) => e instanceof TransferError && !e.transient);
    await assert.rejects(t.stat('../escape'), (e) => e instanceof TransferError && /climbs out/.test(e.message));
  });

  test('describe() names the server, the host key and posix-rename', async () => {
    const rows = new Map(await sftp().describe());
    assert.match(rows.get('server') ?? '', /^SSH-2\.0-OpenSSH_/);
    assert.equal(rows.get('host key'), `ssh-ed25519 ${srv.hostKeyFingerprint}`);
    assert.equal(rows.get('posix-rename'), 'yes');
    assert.match(rows.get('extensions') ?? '', /posix-rename@openssh\.com/);
  });

  test('operations issued together run one after another on one connection', async () => {
    const p = await proxy();
    const t = sftp({}, p.port);
    await writeFile(join(work, 'seq'), 'x');
    await Promise.all([t.mkdir('seq'), t.put(join(work, 'seq'), 'seq/1'), t.put(join(work, 'seq'), 'seq/2'), t.stat('seq/1'), t.list('seq')]);
    assert.equal(p.connections, 1);
    assert.deepEqual((await readdir(serverPath('seq'))).sort(), ['1', '2']);
  });
});

describe('failures on the wire', () => {
  test('a connection cut mid-upload fails transiently; a retried delivery lands exactly once', async () => {
    const p = await proxy();
    const src = await randomFile('cut.bin', 20 * 1024 * 1024);
    try {
      p.cutAfterClientBytes(5_000_000);
      const t = sftp({}, p.port);
      await t.mkdir('cut');
      // mkdir used a few KB; the upload crosses the 5 MB mark.
      await assert.rejects(t.put(src.localPath, 'cut/.cut.bin.0badc0de.part'), (e) => isTransient(e) && /connection lost|failed/.test((e as Error).message));
      assert.equal(await stat(serverPath('cut/cut.bin')).catch(() => undefined), undefined, 'nothing under the final name');

      // The next delivery is cut once more, then retried on a fresh connection.
      p.cutAfterClientBytes(5_000_000);
      const t2 = sftp({}, p.port);
      const before = p.connections;
      const tries: number[] = [];
      const r = await withRetry(
        (n) => {
          tries.push(n);
          return deliverFile(t2, src, { dir: 'cut', ifExists: 'fail', mkdir: false, checksum: false });
        },
        { tries: 3, baseDelayMs: 50, maxDelayMs: 200 },
      );
      assert.equal(r.outcome, 'delivered');
      assert.deepEqual(tries, [1, 2]);
      assert.ok(p.connections >= before + 2, 'reconnected after the cut');
      assert.deepEqual(await readdir(serverPath('cut')), ['cut.bin'], 'one file, no temporary leftovers');
      assert.equal((await sha256File(serverPath('cut/cut.bin'))).sha256, src.sha256);
    } finally {
      await rm(src.localPath, { force: true });
    }
  });

  for (const transfer of ['fast', 'stream'] as const) {
    test(`a stalled connection fails with the no-progress error, not a hang (${transfer})`, async () => {
      const p = await proxy();
      const src = await randomFile(`stall-${transfer}.bin`, 20 * 1024 * 1024);
      try {
        const t = sftp({ idleTimeoutMs: 2000, transfer }, p.port);
        await t.stat('.');
        let stalledAt = 0;
        const started = Date.now();
        const upload = t.put(src.localPath, `stall-${transfer}.bin`, {
          onProgress: (n) => {
            if (!stalledAt && n > 1_000_000) {
              stalledAt = Date.now();
              p.stall();
            }
          },
        });
        await assert.rejects(upload, (e) => isTransient(e) && /no progress for 2 s; connection dropped$/.test((e as Error).message));
        assert.ok(stalledAt > 0, 'the stall happened during the transfer');
        const waited = Date.now() - stalledAt;
        assert.ok(waited >= 1500 && waited < 6000, `rejected ${waited} ms after the stall`);
        assert.ok(Date.now() - started < 20_000);
        // The next operation reconnects.
        p.heal();
        assert.ok(await t.stat('.'));
      } finally {
        await rm(src.localPath, { force: true });
      }
    });
  }

  test('a download on a stalled connection fails too and leaves no local file', async () => {
    const p = await proxy();
    const src = await randomFile('stall-get.bin', 20 * 1024 * 1024);
    try {
      const t0 = sftp();
      await t0.put(src.localPath, 'stall-get.bin');
      const t = sftp({ idleTimeoutMs: 2000 }, p.port);
      const local = join(work, 'stall-get.copy');
      let stalled = false;
      const download = t.get('stall-get.bin', local, {
        onProgress: (n) => {
          if (!stalled && n > 1_000_000) {
            stalled = true;
            p.stall();
          }
        },
      });
      await assert.rejects(download, (e) => isTransient(e) && /no progress for 2 s/.test((e as Error).message));
      assert.equal(await stat(local).catch(() => undefined), undefined);
    } finally {
      await rm(src.localPath, { force: true });
    }
  });

  test('close() returns within seconds when the server no longer answers', async () => {
    const p = await proxy();
    const t = sftp({}, p.port);
    await t.stat('.');
    p.stall();
    const started = Date.now();
    await t.close();
    assert.ok(Date.now() - started < 7000);
  });

  test('a refused connection is transient', async () => {
    const p = await proxy();
    const port = p.port;
    await p.close();
    proxies.splice(proxies.indexOf(p), 1);
    await assert.rejects(sftp({ connectTimeoutMs: 3000 }, port).stat('.'), (e) => isTransient(e) && /cannot connect to 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/.test((e as Error).message));
  });
});

test('close() lets the process exit by itself', async () => {
  // A child process connects, works, closes and must then end without process.exit().
  const moduleUrl = new URL('../../src/transports/sftp.js', import.meta.url).href;
  const logUrl = new URL('../../src/log.js', import.meta.url).href;
  const code = `
    const { createSftpTransport } = await import(${JSON.stringify(moduleUrl)});
    const { createLogger } = await import(${JSON.stringify(logUrl)});
    const t = createSftpTransport('partner', JSON.parse(process.env.CONN), { projectDir: process.cwd(), log: createLogger({ write() {} }) });
    await t.list('.');
    await t.close();
  `;
  const conn: SftpConnection = { type: 'sftp', host: '127.0.0.1', port: srv.port, username: srv.user, password: srv.password, hostKey: srv.hostKeyFingerprint };
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, CONN: JSON.stringify(conn) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [status, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  assert.equal(signal, null, 'the child had to be killed: close() left a handle open');
  assert.equal(status, 0, stderr);
});

test('bad options are config errors before any connection', () => {
  assert.throws(() => sftp({ hostKey: 'aa:bb:cc' }), (e) => e instanceof ConfigError && /hostKey: 'aa:bb:cc' is not a SHA256 fingerprint/.test(e.message));
  assert.throws(() => sftp({ chunkSize: 1 << 20 }), (e) => e instanceof ConfigError && /chunkSize/.test(e.message));
});
