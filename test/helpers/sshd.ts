/**
 * A throwaway OpenSSH server on 127.0.0.1 for the SFTP transport tests.
 *
 * Every run gets a fresh temp folder with its own host key, client keys, authorized_keys and
 * sshd_config, and sshd runs in the foreground as a child of the test process (never the
 * system service). Clients log in as the dedicated system user `ferrytest`:
 * - not root, because password login needs a password and we do not touch root's;
 * - the user is created once (`useradd`, shell nologin so it can never get a shell) and its
 *   password is replaced by a random one on every run (`chpasswd`), so nothing fixed and
 *   guessable ever works against a running test server;
 * - `ForceCommand internal-sftp -d <run folder>` starts every session in this run's upload
 *   folder, so relative paths land in a folder only this run uses, which the test (root)
 *   reads directly to compare bytes.
 * Caveat: two test runs at the very same moment replace each other's password; the later
 * run's password wins and the earlier run's password tests would fail. Runs are serial in
 * `npm test` (scripts/test.mjs), so this only matters for hand-started parallel runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './packages.js';
import { descendants, run } from './processes.js';

const SSHD = '/usr/sbin/sshd';
const TEST_USER = 'ferrytest';

export interface SshdServer {
  host: '127.0.0.1';
  port: number;
  /** Host key fingerprint exactly as `ssh-keygen -lf` prints it: `SHA256:…`. */
  hostKeyFingerprint: string;
  /** A known_hosts line for this server, `[127.0.0.1]:<port> ssh-ed25519 AAAA…`. */
  knownHostsLine: string;
  user: string;
  password: string;
  /** Unencrypted ed25519 private key (OpenSSH format), authorized for `user`. */
  privateKeyPem: string;
  /** RSA private key in PEM format, encrypted with `rsaPassphrase`, authorized for `user`. */
  rsaKeyPem: string;
  rsaPassphrase: string;
  /** Path to the ed25519 private key file (for OpenSSH's own `sftp -i`). */
  privateKeyPath: string;
  /** Local folder where SFTP sessions start: what the client writes is here. */
  root: string;
  /** The temp folder holding keys and config (for benchmarks that call OpenSSH tools). */
  dir: string;
  /** Kill sshd and every session process it started, then remove the temp folder. */
  stop(): Promise<void>;
}


/** A free loopback port: bind port 0, read it, close. sshd gets it a moment later. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

/** Resolve once the port answers with an SSH banner; reject when sshd died or 10 s passed. */
async function waitForBanner(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
      s.once('data', (d: Buffer) => {
        s.destroy();
        resolve(d.toString('latin1').startsWith('SSH-'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within 10 s: ${stderr()}`);
}


/** Running (a zombie whose parent has not reaped it yet counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function ensureTestUser(): string {
  const exists = spawnSync('id', ['-u', TEST_USER]).status === 0;
  if (!exists) {
    // nologin: the account exists for SFTP tests only and must never give a shell.
    const r = spawnSync('useradd', ['--system', '--create-home', '--shell', '/usr/sbin/nologin', TEST_USER], { encoding: 'utf8' });
    // A parallel run may have created it between our check and useradd (exit 9: exists).
    if (r.status !== 0 && r.status !== 9) throw new Error(`useradd ${TEST_USER} failed: ${r.stderr}`);
  }
  const password = `ft-${randomBytes(12).toString('base64url')}`;
  run('chpasswd', [], { input: `${TEST_USER}:${password}\n` });
  return password;
}

/** Start sshd on a free loopback port. Call `stop()` in `after()`. */
export async function startSshd(): Promise<SshdServer> {
  ensureDebianPackages(['openssh-server'], [SSHD]);
  if (process.getuid?.() !== 0) throw new Error('the sshd test server needs root (it logs in as a test user)');
  // sshd refuses to start without its privilege-separation folder when run as root.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = mkdtempSync(join(tmpdir(), 'ferry-sshd-'));
  // sshd reads authorized_keys with the user's rights, and the user must reach its upload folder.
  chmodSync(dir, 0o755);
  const password = ensureTestUser();
  const uid = Number(run('id', ['-u', TEST_USER]).trim());
  const gid = Number(run('id', ['-g', TEST_USER]).trim());

  const root = join(dir, 'root');
  mkdirSync(root);
  chownSync(root, uid, gid);

  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  const rsaKey = join(dir, 'client_rsa');
  const rsaPassphrase = `pp-${randomBytes(8).toString('hex')}`;
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-test-host', '-f', hostKey]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-test-client', '-f', clientKey]);
  // PEM (not the OpenSSH container) so the tests also cover the classic encrypted PEM format.
  run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '3072', '-m', 'PEM', '-N', rsaPassphrase, '-C', 'ferry-test-rsa', '-f', rsaKey]);

  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, readFileSync(`${clientKey}.pub`, 'utf8') + readFileSync(`${rsaKey}.pub`, 'utf8'), { mode: 0o644 });

  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1`,
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      // The temp folder is not owned by the user; StrictModes would reject the keys file.
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication yes',
      'PubkeyAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      `AllowUsers ${TEST_USER}`,
      'X11Forwarding no',
      'AllowTcpForwarding no',
      // Many failing-auth tests in a row must not trip the per-source penalty of newer sshd.
      'MaxAuthTries 10',
      `Subsystem sftp internal-sftp -d ${root}`,
      `ForceCommand internal-sftp -d ${root}`,
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );

  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('sshd did not start');
  // A test process that dies without calling stop() must not leave sshd behind.
  const onExit = () => {
    for (const p of [...descendants(pid), pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.once('exit', onExit);
  try {
    await waitForBanner(port, child, () => stderr);
  } catch (e) {
    onExit();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const fingerprint = run('ssh-keygen', ['-lf', `${hostKey}.pub`]).split(/\s+/)[1] ?? '';

  return {
    host: '127.0.0.1',
    port,
    hostKeyFingerprint: fingerprint,
    knownHostsLine: `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}`,
    user: TEST_USER,
    password,
    privateKeyPem: readFileSync(clientKey, 'utf8'),
    rsaKeyPem: readFileSync(rsaKey, 'utf8'),
    rsaPassphrase,
    privateKeyPath: clientKey,
    root,
    dir,
    async stop() {
      process.removeListener('exit', onExit);
      const wait = async (pids: number[], ms: number) => {
        const deadline = Date.now() + ms;
        while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      };
      // Session processes end by themselves once their clients are gone; give them a moment,
      // so their parents reap them (they called setsid, so they are not in sshd's group).
      await wait(descendants(pid), 1000);
      // Then end the rest bottom-up: a child is killed while its parent still lives to reap it.
      for (let round = 0; round < 5; round++) {
        const below = descendants(pid).filter(alive);
        if (below.length === 0) break;
        const leaves = below.filter((p) => descendants(p).filter(alive).length === 0);
        for (const p of leaves) {
          try {
            process.kill(p, 'SIGTERM');
          } catch {
            /* gone */
          }
        }
        await wait(leaves, 1000);
      }
      const all = [...descendants(pid), pid];
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await wait(all, 5000);
      for (const p of all.filter(alive)) process.kill(p, 'SIGKILL');
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
