/**
 * The FTP/FTPS transport against a real vsftpd on 127.0.0.1 (test/helpers/vsftpd.ts): round
 * trips, certificate checks, atomic delivery, and failures injected through the loopback proxy
 * (test/helpers/proxy.ts) or by killing the server's session processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deliverFile, type DeliverySource, type DeliveryTarget } from '../../src/core/deliver.js';
import { withRetry } from '../../src/core/retry.js';
import { TargetExistsError, TransferError } from '../../src/errors.js';
import { sha256File } from '../../src/fsutil.js';
import { createLogger } from '../../src/log.js';
import { createFtpTransport } from '../../src/transports/ftp.js';
import type { Transport, TransferOptions } from '../../src/transports/types.js';
import type { FtpConnection } from '../../src/types.js';
import { startProxy, type Proxy } from '../helpers/proxy.js';
import { startVsftpd, type FtpServer } from '../helpers/vsftpd.js';

const MB = 1 << 20;

let ftps: FtpServer;
let plain: FtpServer;
let work: string;

before(async () => {
  [ftps, plain] = await Promise.all([startVsftpd({ tls: true }), startVsftpd({ tls: false })]);
  work = await mkdtemp(join(tmpdir(), 'ferry-ftp-test-'));
});
after(async () => {
  await Promise.all([ftps?.stop(), plain?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

/** Log lines written while a test runs, to check warnings and that no secret leaks. */
function captureLog(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ format: 'json', level: 'debug', write: (l) => lines.push(l) }) };
}

function connFor(server: FtpServer, extra: Partial<FtpConnection> = {}): FtpConnection {
  return {
    type: 'ftp',
    host: '127.0.0.1',
    port: server.port,
    user: server.user,
    password: server.password,
    secure: server.tls ? 'explicit' : false,
    ...(server.tls ? { ca: server.caPem } : {}),
    ...extra,
  };
}

function open(server: FtpServer, extra: Partial<FtpConnection> = {}, log = captureLog().log): Transport {
  return createFtpTransport('partner', connFor(server, extra), { projectDir: work, log });
}

async function randomFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = size; left > 0; left -= MB) {
    if (!out.write(randomBytes(Math.min(MB, left)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

async function source(path: string, name: string): Promise<DeliverySource> {
  const w = await sha256File(path);
  return { localPath: path, name, size: w.size, sha256: w.sha256 };
}

/** Upload, check the server's copy, download, check again. */
async function roundTrip(t: Transport, server: FtpServer, local: string, remote: string): Promise<void> {
  const want = await sha256File(local);
  await t.put(local, remote);
  assert.equal((await sha256File(join(server.root, remote))).sha256, want.sha256, 'server-side copy');
  const back = join(work, `back-${randomBytes(4).toString('hex')}`);
  try {
    const got = await t.get(remote, back);
    assert.deepEqual(got, want);
    assert.deepEqual(await sha256File(back), want);
  } finally {
    await rm(back, { force: true });
  }
}

/** The same transport, with a hook on the progress of every upload (deliverFile passes none). */
function onUploadProgress(t: Transport, hook: (bytes: number) => void): Transport {
  return {
    connection: t.connection,
    capabilities: t.capabilities,
    list: (d) => t.list(d),
    stat: (p) => t.stat(p),
    put: (l, r, o?: TransferOptions) =>
      t.put(l, r, {
        onProgress: (n) => {
          o?.onProgress?.(n);
          hook(n);
        },
      }),
    get: (r, l, o) => t.get(r, l, o),
    rename: (a, b, o) => t.rename(a, b, o),
    remove: (p) => t.remove(p),
    mkdir: (d) => t.mkdir(d),
    describe: () => t.describe(),
    close: () => t.close(),
  };
}

const fastRetry = { tries: 3, baseDelayMs: 50, maxDelayMs: 200 };

describe('round trips', () => {
  test('explicit FTPS: a name with spaces and Korean characters, a 0-byte file', async () => {
    const t = open(ftps);
    try {
      const korean = join(work, 'korean.csv');
      await writeFile(korean, 'id,품목\n1,사과\n');
      await roundTrip(t, ftps, korean, '주문 목록 2026.csv');
      const empty = join(work, 'empty.csv');
      await writeFile(empty, '');
      await roundTrip(t, ftps, empty, 'empty.csv');
    } finally {
      await t.close();
    }
  });

  test('explicit FTPS: a 200 MB random file', async () => {
    const local = join(work, 'big.bin');
    await randomFile(local, 200 * MB);
    const t = open(ftps);
    try {
      let last = 0;
      await t.put(local, 'big.bin', { onProgress: (n) => (last = n) });
      assert.ok(last >= 200 * MB, `progress reported ${last}`);
      assert.equal((await stat(join(ftps.root, 'big.bin'))).size, 200 * MB);
      await roundTrip(t, ftps, local, 'big.bin');
    } finally {
      await t.close();
      await rm(local, { force: true });
      await rm(join(ftps.root, 'big.bin'), { force: true });
    }
  });

  test('plain FTP works and warns that credentials cross the network in clear text', async () => {
    const { lines, log } = captureLog();
    const t = open(plain, {}, log);
    try {
      const local = join(work, 'plain.csv');
      await writeFile(local, 'a,b\n1,2\n');
      await roundTrip(t, plain, local, 'plain.csv');
    } finally {
      await t.close();
    }
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((r) => r.level === 40);
    assert.ok(
      warnings.some((w) => /clear text/.test(w.msg) && /password/.test(w.msg)),
      `warnings: ${JSON.stringify(warnings)}`,
    );
    assert.ok(!lines.join('').includes(plain.password), 'password in the log');
  });

  test('implicit FTPS (TLS from the first byte)', async () => {
    const server = await startVsftpd({ implicit: true });
    const t = open(server, { secure: 'implicit' });
    try {
      const local = join(work, 'implicit.csv');
      await writeFile(local, 'x\n');
      await roundTrip(t, server, local, 'implicit.csv');
      const d = new Map(await t.describe());
      assert.match(d.get('tls') ?? '', /^TLSv1\.[23] \(implicit\), certificate CN=127\.0\.0\.1/);
    } finally {
      await t.close();
      await server.stop();
    }
  });

  test('operations called concurrently on one transport run one after the other', async () => {
    const t = open(ftps);
    try {
      const files = await Promise.all(
        [0, 1, 2, 3, 4].map(async (i) => {
          const p = join(work, `c${i}.txt`);
          await writeFile(p, `file ${i}\n`);
          return p;
        }),
      );
      await Promise.all(files.map((p, i) => t.put(p, `conc/../c${i}.txt`)));
      const [list, ...stats] = await Promise.all([t.list('.'), ...files.map((_, i) => t.stat(`c${i}.txt`))]);
      for (const [i, s] of stats.entries()) assert.equal(s?.size, `file ${i}\n`.length);
      assert.ok(list.filter((e) => /^c\d\.txt$/.test(e.name)).length === 5);
    } finally {
      await t.close();
    }
  });
});

describe('TLS and login', () => {
  test('a self-signed server is refused without `ca`, with a message that says what to do', async () => {
    const t = open(ftps, { ca: undefined });
    try {
      await assert.rejects(t.list('.'), (e: unknown) => {
        assert.ok(e instanceof TransferError, String(e));
        assert.equal(e.transient, false);
        assert.match(e.message, /certificate CN=127\.0\.0\.1 issued by CN=ferry test CA/);
        assert.match(e.message, /not trusted/);
        assert.match(e.message, /`ca`/);
        return true;
      });
    } finally {
      await t.close();
    }
  });

  test('a certificate without the expected name is refused and `servername` is suggested', async () => {
    const t = open(ftps, { servername: 'ftp.partner.example' });
    try {
      await assert.rejects(t.stat('x'), (e: unknown) => e instanceof TransferError && !e.transient && /servername/.test(e.message));
    } finally {
      await t.close();
    }
  });

  test('wrong password: 530, a clear permanent error, the password in no message or log line', async () => {
    const { lines, log } = captureLog();
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const t = open(ftps, { password: wrong }, log);
    try {
      await assert.rejects(t.list('.'), (e: unknown) => {
        assert.ok(e instanceof TransferError);
        assert.equal(e.transient, false);
        assert.match(e.message, /refused the login of user 'ferryftp' \(530 Login incorrect\.\); check user and password/);
        let cur: unknown = e;
        while (cur instanceof Error) {
          assert.ok(!cur.message.includes(wrong) && !(cur.stack ?? '').includes(wrong), 'password in an error');
          cur = cur.cause;
        }
        return true;
      });
    } finally {
      await t.close();
    }
    assert.ok(!lines.join('').includes(wrong), 'password in the log');
  });

  test('tlsMaxVersion caps the protocol; transfers still resume the TLS session', async () => {
    const t = open(ftps, { tlsMaxVersion: 'TLSv1.2' });
    try {
      const local = join(work, 'tls12.csv');
      await writeFile(local, 'v\n1.2\n');
      await roundTrip(t, ftps, local, 'tls12.csv');
      const d = new Map(await t.describe());
      assert.match(d.get('tls') ?? '', /^TLSv1\.2, /);
      assert.equal(d.get('tls session reuse'), 'data connections resume the control session');
    } finally {
      await t.close();
    }
  });

  test('describe() shows server, TLS certificate, features', async () => {
    const t = open(ftps);
    try {
      const d = new Map(await t.describe());
      assert.match(d.get('server') ?? '', /vsFTPd 3\./);
      assert.match(d.get('tls') ?? '', /^TLSv1\.3, certificate CN=127\.0\.0\.1 issued by CN=ferry test CA, valid until \d{4}-\d\d-\d\d$/);
      for (const f of ['EPSV', 'MDTM', 'SIZE', 'UTF8']) assert.match(d.get('features') ?? '', new RegExp(`\\b${f}\\b`));
      assert.match(d.get('mlsd') ?? '', /^no/);
      assert.equal(d.get('epsv'), 'yes');
      assert.equal(d.get('tls session reuse'), 'data connections resume the control session');
      const p = new Map(await open(plain).describe());
      assert.equal(p.get('tls session reuse'), 'n/a');
      assert.match(p.get('tls') ?? '', /plain FTP/);
    } finally {
      await t.close();
    }
  });
});

describe('files and folders', () => {
  test('list, stat, remove, rename and mkdir', async () => {
    const t = open(ftps);
    const before = Date.now();
    try {
      await t.mkdir('sem/a/b');
      assert.ok((await stat(join(ftps.root, 'sem/a/b'))).isDirectory());
      await t.mkdir('sem/a/b'); // exists: fine
      const f1 = join(work, 'f1');
      const f2 = join(work, 'f2');
      await writeFile(f1, '12345');
      await writeFile(f2, 'abc');
      await t.put(f1, 'sem/one.txt');
      await t.put(f2, 'sem/.hidden.part');
      // A name a LIST argument would treat as a glob must still list correctly.
      await t.mkdir('sem/[x]*');
      await t.put(f2, 'sem/[x]*/in.txt');

      const entries = (await t.list('sem')).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        entries.map((e) => [e.name, e.path, e.isFile, e.isFile ? e.size : -1]),
        [
          ['.hidden.part', 'sem/.hidden.part', true, 3],
          ['[x]*', 'sem/[x]*', false, -1],
          ['a', 'sem/a', false, -1],
          ['one.txt', 'sem/one.txt', true, 5],
        ],
      );
      const one = entries.find((e) => e.name === 'one.txt');
      // MDTM has whole seconds.
      assert.ok(one?.mtime !== undefined && one.mtime >= before - 2000 && one.mtime <= Date.now() + 2000, `mtime ${one?.mtime}`);
      assert.deepEqual((await t.list('sem/[x]*')).map((e) => e.name), ['in.txt']);

      const st = await t.stat('sem/one.txt');
      assert.equal(st?.size, 5);
      assert.equal(st?.isFile, true);
      assert.equal(st?.name, 'one.txt');
      assert.equal((await t.stat('sem/a'))?.isFile, false);
      assert.equal(await t.stat('sem/missing.txt'), undefined);
      assert.equal(await t.stat('nowhere/missing.txt'), undefined);

      // rename without overwrite refuses an existing target and leaves both files alone.
      await assert.rejects(t.rename('sem/.hidden.part', 'sem/one.txt', { overwrite: false }), TargetExistsError);
      assert.equal(await readFile(join(ftps.root, 'sem/one.txt'), 'utf8'), '12345');
      await t.rename('sem/.hidden.part', 'sem/two.txt', { overwrite: false });
      assert.equal(await readFile(join(ftps.root, 'sem/two.txt'), 'utf8'), 'abc');
      // with overwrite it replaces the target.
      await t.rename('sem/two.txt', 'sem/one.txt', { overwrite: true });
      assert.equal(await readFile(join(ftps.root, 'sem/one.txt'), 'utf8'), 'abc');
      assert.equal(await t.stat('sem/two.txt'), undefined);

      await t.remove('sem/one.txt');
      assert.equal(await t.stat('sem/one.txt'), undefined);
      await t.remove('sem/one.txt'); // already gone: fine
      await assert.rejects(t.remove('sem/a'), (e: unknown) => e instanceof TransferError && !e.transient);

      await assert.rejects(t.stat('../etc/passwd'), /outside the connection's root/);
      await assert.rejects(t.get('missing.bin', join(work, 'm')), (e: unknown) => e instanceof TransferError && /no such file/.test(e.message));
    } finally {
      await t.close();
    }
  });
});

describe('atomic delivery (deliverFile)', () => {
  const target = (dir: string, ifExists: DeliveryTarget['ifExists'] = 'fail'): DeliveryTarget => ({
    dir,
    ifExists,
    mkdir: true,
    checksum: true,
    doneName: 'orders.csv.done',
  });

  test('the file appears only under its final name, complete, then sidecar and done file', async () => {
    const local = join(work, 'orders-big.csv');
    await randomFile(local, 20 * MB);
    const src = await source(local, 'orders.csv');
    const t = open(ftps);
    const final = join(ftps.root, 'out/2026/05', 'orders.csv');
    // Watch the final name while the delivery runs: it must never show fewer bytes.
    let watching = true;
    const seen: number[] = [];
    const watcher = (async () => {
      while (watching) {
        const st = await stat(final).catch(() => undefined);
        if (st) seen.push(st.size);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      const r = await deliverFile(t, src, target('out/2026/05'));
      assert.equal(r.outcome, 'delivered');
      assert.equal(r.remotePath, 'out/2026/05/orders.csv');
    } finally {
      watching = false;
      await watcher;
      await t.close();
    }
    assert.ok(seen.every((n) => n === 20 * MB), `final name showed sizes ${[...new Set(seen)].join(', ')}`);
    assert.equal((await sha256File(final)).sha256, src.sha256);
    assert.deepEqual((await readdir(join(ftps.root, 'out/2026/05'))).sort(), ['orders.csv', 'orders.csv.done', 'orders.csv.sha256']);
    assert.equal(await readFile(`${final}.sha256`, 'utf8'), `${src.sha256}  orders.csv\n`);
    await rm(local);
  });

  test('ifExists: fail, skip, overwrite; our own bytes count as delivered', async () => {
    const local = join(work, 'orders.csv');
    await writeFile(local, 'id,amount\n1,2.50\n');
    const src = await source(local, 'orders.csv');
    const t = open(ftps);
    try {
      await t.mkdir('ifx');
      await writeFile(join(ftps.root, 'ifx/orders.csv'), 'someone else\n');
      await assert.rejects(deliverFile(t, src, target('ifx', 'fail')), TargetExistsError);
      assert.equal((await deliverFile(t, src, target('ifx', 'skip'))).outcome, 'skipped-exists');
      assert.equal(await readFile(join(ftps.root, 'ifx/orders.csv'), 'utf8'), 'someone else\n');
      assert.equal((await deliverFile(t, src, target('ifx', 'overwrite'))).outcome, 'delivered');
      assert.equal(await readFile(join(ftps.root, 'ifx/orders.csv'), 'utf8'), 'id,amount\n1,2.50\n');
      assert.equal((await deliverFile(t, src, target('ifx', 'fail'))).outcome, 'already-there');
      assert.deepEqual((await readdir(join(ftps.root, 'ifx'))).sort(), ['orders.csv', 'orders.csv.done', 'orders.csv.sha256']);
    } finally {
      await t.close();
    }
  });

  test('without mkdir a missing folder is an error, not a new folder', async () => {
    const local = join(work, 'o2.csv');
    await writeFile(local, 'x\n');
    const t = open(ftps);
    try {
      await assert.rejects(deliverFile(t, await source(local, 'o2.csv'), { ...target('no/such'), mkdir: false }), (e: unknown) => e instanceof TransferError && !e.transient);
      await assert.rejects(stat(join(ftps.root, 'no')));
    } finally {
      await t.close();
    }
  });
});

describe('broken and stalled links', () => {
  // Uploads are capped at 8 MB/s here so a 20 MB upload lasts long enough to break it midway.
  let slow: FtpServer;
  let big: DeliverySource;
  const proxies: Proxy[] = [];
  const proxy = async () => {
    const p = await startProxy(slow.port);
    proxies.push(p);
    return p;
  };
  before(async () => {
    slow = await startVsftpd({ tls: true, maxRate: 8 * MB });
    const local = join(work, 'drop.bin');
    await randomFile(local, 20 * MB);
    big = await source(local, 'drop.bin');
  });
  after(async () => {
    for (const p of proxies) await p.close().catch(() => undefined);
    await slow?.stop();
  });
  const plainTarget: DeliveryTarget = { dir: 'in', ifExists: 'fail', mkdir: true, checksum: false };
  const inbox = async () => (await readdir(join(slow.root, 'in')).catch(() => [] as string[])).sort();

  test('control link cut mid-upload: transient error, nothing under the final name; a retry delivers one complete file', async () => {
    const first = await proxy();
    const conn = connFor(slow, { port: first.port, idleTimeoutMs: 5000 });
    const t = createFtpTransport('partner', conn, { projectDir: work, log: captureLog().log });
    let cut = false;
    const hooked = onUploadProgress(t, (n) => {
      if (!cut && n >= 3 * MB) {
        cut = true;
        // Destroys both ends of the proxied control connection; basic-ftp then drops the
        // data connection too (its context closes every socket on a control failure).
        void first.close();
      }
    });
    try {
      const started = Date.now();
      await assert.rejects(deliverFile(hooked, big, plainTarget), (e: unknown) => {
        assert.ok(e instanceof TransferError, String(e));
        assert.equal(e.transient, true, e.message);
        return true;
      });
      assert.ok(cut, 'the upload was not cut');
      assert.ok(Date.now() - started < 10_000);
      assert.ok(!(await inbox()).includes('drop.bin'), 'partial file under the final name');

      // The link comes back (a new proxy; the connection follows it on its next connect).
      conn.port = (await proxy()).port;
      const tries: number[] = [];
      const r = await withRetry((n) => {
        tries.push(n);
        return deliverFile(t, big, plainTarget);
      }, fastRetry);
      assert.equal(r.outcome, 'delivered');
      assert.deepEqual(tries, [1]);
      // Exactly one complete file; the stale temporary upload was cleaned up.
      assert.deepEqual(await inbox(), ['drop.bin']);
      assert.equal((await sha256File(join(slow.root, 'in/drop.bin'))).sha256, big.sha256);
    } finally {
      await t.close();
      await rm(join(slow.root, 'in'), { recursive: true, force: true });
    }
  });

  test('session killed mid-upload inside withRetry: the same transport reconnects and delivers once', async () => {
    const t = open(slow, { idleTimeoutMs: 5000 });
    let killed = 0;
    const hooked = onUploadProgress(t, (n) => {
      if (killed === 0 && n >= 3 * MB) {
        killed++;
        // Both connections drop at once, as when the server side of the session dies.
        slow.killSessions();
      }
    });
    try {
      const retried: unknown[] = [];
      const r = await withRetry(() => deliverFile(hooked, big, plainTarget), fastRetry, (e) => retried.push(e));
      assert.equal(r.outcome, 'delivered');
      assert.equal(killed, 1);
      assert.equal(retried.length, 1);
      assert.ok(retried[0] instanceof TransferError && retried[0].transient, String(retried[0]));
      assert.deepEqual(await inbox(), ['drop.bin']);
      assert.equal((await sha256File(join(slow.root, 'in/drop.bin'))).sha256, big.sha256);
    } finally {
      await t.close();
      await rm(join(slow.root, 'in'), { recursive: true, force: true });
    }
  });

  test('stalled control link: an operation fails after idleTimeoutMs instead of hanging', async () => {
    const p = await proxy();
    const t = open(slow, { port: p.port, idleTimeoutMs: 2000 });
    try {
      await t.stat('x'); // connected
      p.stall();
      const started = Date.now();
      await assert.rejects(t.stat('x'), (e: unknown) => {
        assert.ok(e instanceof TransferError, String(e));
        assert.equal(e.transient, true);
        assert.match(e.message, /no progress for 2 s; connection dropped/);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 1500 && took < 6000, `took ${took} ms`);
      p.heal();
      assert.equal(await t.stat('x'), undefined, 'reconnects after the stall');
    } finally {
      await t.close();
    }
  });

  test('control link stalls mid-upload: the upload fails within seconds, nothing under the final name', async () => {
    const p = await proxy();
    const t = open(slow, { port: p.port, idleTimeoutMs: 2000 });
    let stalledAt = 0;
    const hooked = onUploadProgress(t, (n) => {
      if (!stalledAt && n >= 3 * MB) {
        stalledAt = Date.now();
        p.stall();
      }
    });
    try {
      await hooked.mkdir('in');
      await assert.rejects(hooked.put(big.localPath, 'in/.drop.bin.0badc0de.part'), (e: unknown) => {
        assert.ok(e instanceof TransferError, String(e));
        assert.equal(e.transient, true);
        assert.match(e.message, /no progress for 2 s/);
        return true;
      });
      // The data connection goes on by itself (~2 s at 8 MB/s); the missing final reply then
      // counts as the stall.
      const took = Date.now() - stalledAt;
      assert.ok(took < 8000, `took ${took} ms`);
      assert.ok(!(await inbox()).includes('drop.bin'));
    } finally {
      p.heal();
      await t.close();
      await rm(join(slow.root, 'in'), { recursive: true, force: true });
    }
  });
});

test('close() lets the process exit', async () => {
  const modUrl = new URL('../../src/transports/ftp.js', import.meta.url).href;
  const logUrl = new URL('../../src/log.js', import.meta.url).href;
  const script = `
    const { createFtpTransport } = await import(${JSON.stringify(modUrl)});
    const { createLogger } = await import(${JSON.stringify(logUrl)});
    const t = createFtpTransport('p', { type: 'ftp', host: '127.0.0.1', port: Number(process.env.P), user: process.env.U,
      password: process.env.W, ca: process.env.CA }, { projectDir: '.', log: createLogger({ write: () => {} }) });
    await t.list('.');
    await t.close();
    console.log('closed');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, P: String(ftps.port), U: ftps.user, W: ftps.password, CA: ftps.caPem },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const started = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 10_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, `child: ${out}`);
  assert.match(out, /closed/);
  assert.ok(Date.now() - started < 5000, 'the process lingered after close()');
});
