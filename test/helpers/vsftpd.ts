/**
 * A throwaway vsftpd on 127.0.0.1 for the FTP/FTPS transport tests.
 *
 * Every server gets a fresh temp folder holding its own CA, server certificate, vsftpd.conf and
 * the folder logins land in (`root`), and vsftpd runs in the foreground as a child of the test
 * process (never the system service; the package install keeps that from starting, see
 * packages.ts). Clients log in as the dedicated system user `ferryftp`:
 * - created once with `useradd -M -d / -s /usr/sbin/nologin`, so it can never get a shell. Debian's
 *   /etc/pam.d/vsftpd ends with `pam_shells`, which refuses users whose shell is not listed in
 *   /etc/shells, so nologin is added there once (harmless: nologin users have no usable password);
 * - it gets a fresh random password (`chpasswd`) when no test process is using it, and is locked
 *   again (`usermod -L`) when the last one stops, so no fixed or lasting password exists. Test
 *   processes that overlap (two people running the suite on one machine) share the password:
 *   a root-only folder under /run holds it and one marker per live process, under `flock`;
 * - `chroot_local_user` + `local_root` put each login in this server's `root`, which the tests
 *   (running as root) read directly to compare bytes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './packages.js';
import { descendants, run } from './processes.js';

const VSFTPD = '/usr/sbin/vsftpd';
const NOLOGIN = '/usr/sbin/nologin';
const TEST_USER = 'ferryftp';

/** A running test server. */
export interface FtpServer {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  /** PEM of the CA that signed the server certificate (empty without TLS). */
  caPem: string;
  /** Local folder every login starts in (its FTP `/`): what clients write appears here. */
  root: string;
  /** True when the server requires explicit FTPS for logins and data. */
  tls: boolean;
  /**
   * Kill every session process (one pair per logged-in client) while vsftpd keeps listening:
   * both control and data connections drop at once, as when the link or the server's session dies.
   */
  killSessions(): void;
  /** Kill vsftpd and every session process it started, then remove the temp folder. */
  stop(): Promise<void>;
}


/** Can something listen on this loopback port right now? */
async function portFree(port: number): Promise<boolean> {
  const srv = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => srv.close(() => resolve()));
  return ok;
}

/**
 * A free control port and a free passive range just above it. Ports are only probed, so another
 * process could take one before vsftpd binds it; the random start makes that unlikely.
 */
async function freePorts(pasvCount: number): Promise<{ port: number; pasvMin: number; pasvMax: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let all = true;
    for (let p = base; p <= base + pasvCount && all; p++) all = await portFree(p);
    if (all) return { port: base, pasvMin: base + 1, pasvMax: base + pasvCount };
  }
  throw new Error('no free loopback port range for vsftpd');
}

/** Resolve once the port answers with an FTP greeting; reject when vsftpd died or 10 s passed. */
async function waitForGreeting(port: number, child: ChildProcess, stderr: () => string, implicitCa?: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`vsftpd exited with ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      // With implicit TLS the greeting only comes after the handshake.
      const s = implicitCa === undefined ? connect(port, '127.0.0.1') : tlsConnect({ port, host: '127.0.0.1', ca: implicitCa });
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
      s.once('data', (d: Buffer) => {
        s.end('QUIT\r\n');
        resolve(d.toString('latin1').startsWith('220'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`vsftpd did not answer on 127.0.0.1:${port} within 10 s: ${stderr()}`);
}


function killAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

let password: string | undefined;
let liveServers = 0;
const children = new Set<ChildProcess>();

// A test that crashes or is interrupted must not leave daemons behind: kill them synchronously
// on the way out (an 'exit' handler cannot wait for anything). A signal skips 'exit', so
// SIGINT/SIGTERM kill them too and are then delivered again with their default action.
function killChildren(): void {
  for (const c of children) if (c.pid !== undefined) killAll([...descendants(c.pid), c.pid]);
  children.clear();
  if (liveServers > 0) {
    liveServers = 0;
    try {
      releaseUser();
    } catch {
      /* the next run drops our stale marker */
    }
  }
}
process.once('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killChildren();
    process.kill(process.pid, sig);
  });
}

/** Shared state of the test user across processes (see the header). */
const SHARED = existsSync('/run') ? '/run/ferry-vsftpd-test' : join(tmpdir(), 'ferry-vsftpd-test');

/**
 * Run `script` under the shared lock with $D (state folder), $U (user), $P (our pid). Stale
 * markers of processes that died without stopping are dropped first.
 */
function shared(script: string): string {
  const full = [
    'set -e',
    'umask 077',
    'mkdir -p "$D/pids"',
    'for f in "$D"/pids/*; do [ -e "$f" ] || continue; kill -0 "${f##*/}" 2>/dev/null || rm -f "$f"; done',
    script,
  ].join('\n');
  const r = spawnSync('flock', [`${SHARED}.lock`, 'sh', '-c', full], {
    encoding: 'utf8',
    env: { ...process.env, D: SHARED, U: TEST_USER, P: String(process.pid) },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`test user setup failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Create the login user once; join (or start) the group of processes sharing its password. */
function prepareUser(): string {
  // Home '/': vsftpd 3.0.3 changes into the home folder before it applies `local_root`, and
  // refuses the login when that fails ("500 OOPS: cannot change directory").
  const entry = spawnSync('getent', ['passwd', TEST_USER], { encoding: 'utf8' });
  if (entry.status !== 0) run('useradd', ['--system', '-M', '-d', '/', '-s', NOLOGIN, TEST_USER]);
  else if (entry.stdout.split(':')[5] !== '/') run('usermod', ['-d', '/', TEST_USER]);
  const shells = readFileSync('/etc/shells', 'utf8').split('\n');
  if (!shells.includes(NOLOGIN)) appendFileSync('/etc/shells', `${shells.at(-1) === '' ? '' : '\n'}${NOLOGIN}\n`);
  if (password === undefined || liveServers === 0) {
    const fresh = randomBytes(18).toString('base64url');
    password = shared(
      [
        // Nobody else is using the user: a new password. Otherwise reuse theirs.
        'if [ -z "$(ls -A "$D/pids")" ] || [ ! -s "$D/password" ]; then',
        `  printf '%s' '${fresh}' > "$D/password"`,
        `  printf '%s:%s\\n' "$U" '${fresh}' | chpasswd`,
        'fi',
        'touch "$D/pids/$P"',
        'cat "$D/password"',
      ].join('\n'),
    ).trim();
  }
  return password;
}

/** This process is done with the user: lock it when no other process uses it any more. */
function releaseUser(): void {
  shared(['rm -f "$D/pids/$P"', 'if [ -z "$(ls -A "$D/pids")" ]; then usermod -L "$U"; rm -f "$D/password"; fi'].join('\n'));
}

/** A CA and a server certificate for 127.0.0.1 signed by it, as vsftpd and the tests need them. */
function makeCertificates(dir: string): { caPem: string; cert: string; key: string } {
  const o = (...args: string[]) => run('openssl', args, { cwd: dir });
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=ferry test CA');
  o('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  o('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '30', '-extfile', 'server.ext');
  chmodSync(join(dir, 'server.key'), 0o600);
  return { caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

/** How the test server is set up. */
export interface VsftpdOptions {
  /** Require FTPS for logins and data, with TLS session reuse on data connections (default true). */
  tls?: boolean;
  /** Implicit TLS (TLS from the first byte) instead of AUTH TLS; implies `tls`. */
  implicit?: boolean;
  /** Cap each transfer at this many bytes per second, so tests can act in the middle of one. */
  maxRate?: number;
}

/**
 * Start vsftpd on 127.0.0.1 with a fresh root folder. With `tls` (default true) logins and data
 * must use explicit FTPS with TLS session reuse on data connections, as strict partners do.
 */
export async function startVsftpd(opts: VsftpdOptions = {}): Promise<FtpServer> {
  ensureDebianPackages(['vsftpd'], [VSFTPD]);
  const tls = (opts.tls ?? true) || opts.implicit === true;
  const pass = prepareUser();
  // Counted from here (not once vsftpd runs): a second server started meanwhile must reuse
  // this password instead of replacing it.
  liveServers++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    liveServers--;
    if (liveServers === 0) releaseUser();
  };
  const dir = mkdtempSync(join(tmpdir(), 'ferry-vsftpd-'));
  let setup;
  try {
    setup = await configure(dir, tls, opts);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    release();
    throw e;
  }
  const { root, confPath, port, caPem } = setup;

  const child = spawn(VSFTPD, [confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (stderr += d.toString()));

  const stop = async () => {
    if (children.has(child)) {
      children.delete(child);
      if (child.pid !== undefined && child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        killAll([...descendants(child.pid), child.pid]);
        await exited;
      }
    }
    release();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitForGreeting(port, child, () => stderr, opts.implicit ? caPem : undefined);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    host: '127.0.0.1',
    port,
    user: TEST_USER,
    password: pass,
    caPem,
    root,
    tls,
    killSessions: () => {
      if (child.pid !== undefined) killAll(descendants(child.pid));
    },
    stop,
  };
}

/** Folders, certificates and vsftpd.conf for one server inside `dir`. */
async function configure(
  dir: string,
  tls: boolean,
  opts: VsftpdOptions,
): Promise<{ root: string; confPath: string; port: number; caPem: string }> {
  const uid = Number(run('id', ['-u', TEST_USER]).trim());
  const gid = Number(run('id', ['-g', TEST_USER]).trim());
  // The session runs as the test user and must be able to reach `root` inside the temp folder.
  chmodSync(dir, 0o711);
  const root = join(dir, 'root');
  mkdirSync(root);
  chownSync(root, uid, gid);
  // vsftpd wants an empty folder nobody can write to for its unprivileged helper's chroot.
  const empty = join(dir, 'empty');
  mkdirSync(empty, { mode: 0o755 });

  const certs = tls ? makeCertificates(dir) : undefined;
  const { port, pasvMin, pasvMax } = await freePorts(10);
  const conf = [
    'listen=YES',
    'listen_ipv6=NO',
    'listen_address=127.0.0.1',
    `listen_port=${port}`,
    'background=NO',
    'pasv_enable=YES',
    'pasv_address=127.0.0.1',
    `pasv_min_port=${pasvMin}`,
    `pasv_max_port=${pasvMax}`,
    'port_enable=NO',
    'write_enable=YES',
    'local_enable=YES',
    'local_umask=022',
    'anonymous_enable=NO',
    'chroot_local_user=YES',
    'allow_writeable_chroot=YES',
    `local_root=${root}`,
    // vsftpd 3.0.3's seccomp filter and namespace isolation break inside containers.
    'seccomp_sandbox=NO',
    'isolate=NO',
    'isolate_network=NO',
    `secure_chroot_dir=${empty}`,
    'pam_service_name=vsftpd',
    'userlist_enable=NO',
    'xferlog_enable=NO',
    'syslog_enable=NO',
    // Announce UTF8 in FEAT: names are bytes to vsftpd either way; clients then send UTF-8.
    'utf8_filesystem=YES',
    // Let the tests see temporary dot-names in listings (LIST -a works too; this covers plain LIST).
    'force_dot_files=YES',
  ];
  if (certs) {
    // Debian's vsftpd 3.0.3 has no ssl_tlsv1_2/ssl_tlsv1_3 switches: `ssl_tlsv1` lets OpenSSL
    // negotiate TLS 1.0 up to 1.3, and Node refuses anything below 1.2 anyway.
    conf.push(
      'ssl_enable=YES',
      `rsa_cert_file=${certs.cert}`,
      `rsa_private_key_file=${certs.key}`,
      'force_local_logins_ssl=YES',
      'force_local_data_ssl=YES',
      'require_ssl_reuse=YES',
      'ssl_sslv2=NO',
      'ssl_sslv3=NO',
      'ssl_tlsv1=YES',
      'ssl_ciphers=HIGH',
    );
    if (opts.implicit) conf.push('implicit_ssl=YES');
  }
  if (opts.maxRate) conf.push(`local_max_rate=${Math.round(opts.maxRate)}`);
  // FERRY_VSFTPD_LOG=<file>: the protocol and TLS log, for debugging a failing test.
  const debugLog = process.env.FERRY_VSFTPD_LOG;
  if (debugLog) conf.push('xferlog_enable=YES', 'xferlog_std_format=NO', `vsftpd_log_file=${debugLog}`, 'log_ftp_protocol=YES', 'debug_ssl=YES');
  const confPath = join(dir, 'vsftpd.conf');
  writeFileSync(confPath, conf.join('\n') + '\n');
  return { root, confPath, port, caPem: certs?.caPem ?? '' };
}
