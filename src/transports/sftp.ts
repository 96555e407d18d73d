/**
 * SFTP transport on ssh2 (the SSH library under ssh2-sftp-client; we talk to its SFTP session
 * directly for the server's extensions, our own pipelined transfers and precise errors).
 *
 * One connection per transport, opened on first use and reused; operations run strictly one
 * after another (ssh2-sftp-client's README: no parallel operations on one connection). A
 * dropped connection fails the running operation with a transient TransferError and the next
 * operation reconnects. Every operation runs under an idle watchdog, because ssh2 has no
 * request timeout and a stalled link would otherwise hang a scheduled job forever.
 *
 * Host keys are always verified (ssh2 accepts any key without a `hostVerifier`): against
 * pinned `SHA256:` fingerprints and/or a known_hosts file; `insecureSkipHostKeyCheck` is the
 * only way around it and warns on every connect.
 */
import { once } from 'node:events';
import { readFile, rm, stat as localStat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { posix, resolve as resolvePath } from 'node:path';
import ssh2 from 'ssh2';
import type {
  AnyAuthMethod,
  Attributes,
  AuthenticationType,
  Client,
  ConnectConfig,
  FileEntryWithStats,
  NegotiatedAlgorithms,
  ParsedKey,
  SFTPWrapper,
  Stats,
} from 'ssh2';
import { ConfigError, FerryError, TargetExistsError, TransferError, DownloadLimitError } from '../errors.js';
import { registerSecret, resolveSecret } from '../secrets.js';
import type { SftpConnection } from '../types.js';
import type { TransportContext } from './index.js';
import { joinPosix } from './local.js';
import { checkKnownHosts, fingerprintOf, keyTypeOf, knownHostsName, parseFingerprint } from './sftp-hostkey.js';
import { DownloadTooLarge, getPipelined, getStreamed, LocalFileError, putPipelined, putStreamed, request, type TransferTuning } from './sftp-io.js';
import type { RemoteEntry, TransferOptions, Transport, TransportCapabilities } from './types.js';
import { formatSeconds, IdleTimeoutError, withIdleWatchdog, type Watchdog } from './watchdog.js';

const { Client: SshClient, utils: sshUtils } = ssh2;

/** Defaults documented on SftpConnection in src/types.ts. */
const DEFAULTS = {
  port: 22,
  connectTimeoutMs: 20_000,
  idleTimeoutMs: 60_000,
  keepaliveIntervalMs: 15_000,
  concurrency: 64,
  chunkSize: 32_768,
} as const;
/** Largest READ/WRITE payload OpenSSH accepts (its 256 KiB packet limit minus headers). */
const MAX_CHUNK = 261_120;
/** How long close() waits for the server to acknowledge the end of the session. */
const CLOSE_TIMEOUT_MS = 5_000;
/** How long a failed operation may take to release its handles before the failure is reported. */
const SETTLE_MS = 2_000;

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that ssh2 puts on `err.code`. */
const FX = { EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, OP_UNSUPPORTED: 8 } as const;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** One authenticated SSH connection with its SFTP channel. */
interface Session {
  client: Client;
  sock: Socket;
  sftp: SFTPWrapper;
  /** Aborted when the connection is gone; stops new requests (see sftp-io `request`). */
  alive: AbortController;
  /** Rejects when the connection is lost, so a running operation fails at once. */
  lost: Promise<never>;
  /** Why the connection ended, when it ended on its own (reset, closed by server, idle). */
  endReason?: string;
  serverIdent: string;
  hostKey: { type: string; fingerprint: string; trust: string };
  user: string;
  authMethod: string;
  negotiated?: NegotiatedAlgorithms;
  extensions: Record<string, string>;
  /** Bytes per READ and per WRITE request on this server (see `chunkSizes`). */
  chunk: { read: number; write: number };
}

/**
 * Create the SFTP transport for connection `name`. Nothing is resolved or opened until the
 * first operation; option values are checked here so a bad config fails before any transfer.
 */
export function createSftpTransport(name: string, conn: SftpConnection, ctx: TransportContext): Transport {
  return new SftpTransport(name, conn, ctx);
}

class SftpTransport implements Transport {
  readonly capabilities: TransportCapabilities;
  private readonly label: string;
  private readonly where: string;
  private readonly port: number;
  private readonly pins: string[];
  /** Requests in flight; 1 for 'stream'. */
  private readonly concurrency: number;
  private session: Session | undefined;
  /** Tail of the operation queue: every operation starts after the previous one settled. */
  private queue: Promise<unknown> = Promise.resolve();
  private warnedNoPosixRename = false;

  constructor(
    readonly connection: string,
    private readonly conn: SftpConnection,
    private readonly ctx: TransportContext,
  ) {
    this.label = `sftp ${connection}`;
    this.where = `connections.${connection}`;
    this.port = conn.port ?? DEFAULTS.port;
    const problems: string[] = [];
    const positive = (key: keyof SftpConnection, max = Number.MAX_SAFE_INTEGER) => {
      const v = conn[key];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)) {
        problems.push(`${this.where}.${key}: expected a whole number from 1 to ${max}, got ${String(v)}`);
      }
    };
    positive('port', 65535);
    positive('concurrency', 1024);
    positive('chunkSize', MAX_CHUNK);
    this.pins = [];
    for (const pin of conn.hostKey === undefined ? [] : Array.isArray(conn.hostKey) ? conn.hostKey : [conn.hostKey]) {
      const fp = parseFingerprint(pin);
      if (fp) this.pins.push(fp);
      else problems.push(`${this.where}.hostKey: '${pin}' is not a SHA256 fingerprint as 'ssh-keygen -lf' prints it (SHA256:…)`);
    }
    if (problems.length) throw new ConfigError(problems);
    this.concurrency = conn.transfer === 'stream' ? 1 : (conn.concurrency ?? DEFAULTS.concurrency);
    this.capabilities = {
      rename: conn.atomic !== false,
      // Known only after connecting; rename() replaces non-atomically (with a warning) when
      // the server lacks posix-rename, so core can always ask for an overwrite.
      atomicOverwrite: true,
      // OpenSSH's plain SFTP rename links the new name and fails if it exists.
      exclusiveRename: true,
      hashing: false,
    };
  }

  // --- operations ---------------------------------------------------------------------------

  async list(dir: string): Promise<RemoteEntry[]> {
    const p = this.remote(dir || '.');
    return this.run('list', dir, async (s) => {
      const entries = await request<FileEntryWithStats[]>(s.alive.signal, (done) => s.sftp.readdir(p, done));
      const out: RemoteEntry[] = [];
      for (const e of entries) {
        if (e.filename === '.' || e.filename === '..') continue;
        let attrs: Attributes = e.attrs;
        // readdir reports links themselves; follow them like the local transport does.
        if ((attrs.mode & S_IFMT) === S_IFLNK) {
          const target = await this.statOrUndefined(s, posix.join(p, e.filename));
          if (!target) continue;
          attrs = target;
        }
        out.push(entryOf(e.filename, joinPosix(dir, e.filename), attrs));
      }
      return out;
    });
  }

  async stat(path: string): Promise<RemoteEntry | undefined> {
    const p = this.remote(path);
    return this.run('stat', path, async (s) => {
      const st = await this.statOrUndefined(s, p);
      return st && entryOf(posix.basename(p), path, st);
    });
  }

  async put(localPath: string, remotePath: string, opts: TransferOptions = {}): Promise<void> {
    const p = this.remote(remotePath);
    const size = await localStat(localPath).then(
      (st) => st.size,
      (e: unknown) => {
        throw new TransferError(`${this.label}: cannot read ${localPath} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
      },
    );
    await this.run('upload to', remotePath, async (s, w) => {
      const t = this.transferTuning(s, w, opts, s.chunk.write);
      await (this.conn.transfer === 'stream' ? putStreamed : putPipelined)(s.sftp, localPath, p, t);
      // The server's view is what counts: a short file here means lost writes.
      const st = await this.statOrUndefined(s, p);
      if (st?.size !== size) {
        throw new TransferError(`${this.label}: uploaded ${size} bytes to '${remotePath}' but the server has ${st ? `${st.size} bytes` : 'no file'}`, {
          transient: true,
        });
      }
    });
  }

  async get(remotePath: string, localPath: string, opts: TransferOptions = {}): Promise<{ size: number; sha256: string }> {
    const p = this.remote(remotePath);
    return this.run('download', remotePath, async (s, w) => {
      const t = { ...this.transferTuning(s, w, opts, s.chunk.read), maxBytes: opts.maxBytes };
      try {
        const got = await (this.conn.transfer === 'stream' ? getStreamed : getPipelined)(s.sftp, p, localPath, t);
        const onDisk = (await localStat(localPath)).size;
        const remote = await this.statOrUndefined(s, p);
        if (onDisk !== got.size || remote?.size !== got.size) {
          throw new TransferError(
            `${this.label}: downloaded ${got.size} bytes of '${remotePath}' (local file ${onDisk}, server ${remote?.size ?? 'no file'}); the file changed or the transfer lost data`,
            { transient: true },
          );
        }
        return got;
      } catch (e) {
        // A partial download must not look like a file. Done inside the operation, which run()
        // lets settle before reporting, so a retry cannot race this removal.
        await rm(localPath, { force: true }).catch(() => undefined);
        if (e instanceof DownloadTooLarge) throw new DownloadLimitError(`${this.label}: '${remotePath}': ${e.message}`, e.limit, { cause: e });
        throw e;
      }
    });
  }

  async rename(from: string, to: string, opts: { overwrite: boolean }): Promise<void> {
    const a = this.remote(from);
    const b = this.remote(to);
    await this.run('rename to', to, async (s) => {
      const plain = () => request<void>(s.alive.signal, (done) => s.sftp.rename(a, b, done));
      if (opts.overwrite) {
        if (s.extensions['posix-rename@openssh.com'] !== undefined) {
          // rename(2) semantics: replaces the target atomically, readers see old or new bytes.
          await request<void>(s.alive.signal, (done) => s.sftp.ext_openssh_rename(a, b, done));
          return;
        }
        try {
          await plain();
        } catch (e) {
          if (!(await this.statOrUndefined(s, b))) throw e;
          if (!this.warnedNoPosixRename) {
            this.warnedNoPosixRename = true;
            this.ctx.log.warn(
              { connection: this.connection },
              `${this.label}: the server has no posix-rename; replacing files by remove + rename, which is not atomic (a reader may briefly see no file)`,
            );
          }
          await request<void>(s.alive.signal, (done) => s.sftp.unlink(b, done));
          await plain();
        }
        return;
      }
      try {
        await plain();
      } catch (e) {
        // SFTP v3 gives a bare FAILURE when the target exists; look before blaming it.
        if (isStatus(e) && (await this.statOrUndefined(s, b))) {
          throw new TargetExistsError(`${this.label}: '${to}' already exists`, { cause: e });
        }
        throw e;
      }
    });
  }

  async remove(path: string): Promise<void> {
    const p = this.remote(path);
    await this.run('remove', path, async (s) => {
      try {
        await request<void>(s.alive.signal, (done) => s.sftp.unlink(p, done));
      } catch (e) {
        if (!isStatus(e, FX.NO_SUCH_FILE)) throw e;
      }
    });
  }

  async mkdir(dir: string): Promise<void> {
    const p = this.remote(dir || '.');
    await this.run('create folder', dir, async (s) => {
      const existing = await this.statOrUndefined(s, p);
      if (existing && (existing.mode & S_IFMT) === S_IFDIR) return;
      // Walk down from the top, creating what is missing; another client may create a level
      // at the same time, so a failed mkdir is fine when the folder is there afterwards.
      const parts = p.split('/');
      for (let i = 1; i <= parts.length; i++) {
        const prefix = parts.slice(0, i).join('/');
        if (prefix === '' || prefix === '.') continue;
        const st = await this.statOrUndefined(s, prefix);
        if (st) {
          if ((st.mode & S_IFMT) !== S_IFDIR) throw new TransferError(`${this.label}: cannot create folder '${dir}': '${prefix}' is a file`);
          continue;
        }
        try {
          await request<void>(s.alive.signal, (done) => s.sftp.mkdir(prefix, done));
        } catch (e) {
          const now = await this.statOrUndefined(s, prefix);
          if (!now || (now.mode & S_IFMT) !== S_IFDIR) throw e;
        }
      }
    });
  }

  async describe(): Promise<Array<[string, string]>> {
    return this.run('describe', '', async (s) => {
      const home = await request<string>(s.alive.signal, (done) => s.sftp.realpath('.', done)).catch(() => '?');
      const posixRename = s.extensions['posix-rename@openssh.com'] !== undefined;
      const pairs: Array<[string, string]> = [
        ['server', s.serverIdent],
        ['address', `${this.conn.host}:${this.port}`],
        ['host key', `${s.hostKey.type} ${s.hostKey.fingerprint}`],
        ['host key trusted', s.hostKey.trust],
        ['auth', `ok as ${s.user} (${s.authMethod})`],
      ];
      if (s.negotiated) pairs.push(['cipher', `${s.negotiated.cs.cipher}${s.negotiated.cs.mac ? ` + ${s.negotiated.cs.mac}` : ''}, kex ${s.negotiated.kex}`]);
      pairs.push(
        ['login folder', home],
        ['posix-rename', posixRename ? 'yes' : 'no (replacing a file is remove + rename, not atomic)'],
        ['extensions', Object.keys(s.extensions).sort().join(', ') || 'none'],
        [
          'transfer',
          `${this.conn.transfer ?? 'fast'}: ${this.concurrency} request${this.concurrency === 1 ? '' : 's'} in flight, ${s.chunk.read} B per read, ${s.chunk.write} B per write`,
        ],
      );
      return pairs;
    });
  }

  /** End the session. Waits at most 5 s for the server, then drops the socket so the process can exit. */
  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (!s) return;
    if (s.alive.signal.aborted) {
      s.sock.destroy();
      return;
    }
    s.endReason = 'closed by ferry';
    const closed = once(s.sock, 'close').then(() => true);
    const timer = new Promise<boolean>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS, false).unref());
    s.client.end();
    if (!(await Promise.race([closed, timer]))) s.sock.destroy();
    s.alive.abort(new Error('closed'));
  }

  // --- machinery ----------------------------------------------------------------------------

  /**
   * Queue an operation: wait for earlier ones, connect if needed, run it under the idle
   * watchdog and turn whatever it throws into a TransferError that says what failed.
   */
  private run<T>(what: string, path: string, fn: (s: Session, w: Watchdog) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      const s = await this.connected();
      const idleMs = this.conn.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs;
      let work: Promise<T> | undefined;
      try {
        return await withIdleWatchdog(
          idleMs,
          () => this.drop(s, `no progress for ${formatSeconds(idleMs)}`),
          (w) => {
            work = fn(s, w);
            return Promise.race([work, s.lost]);
          },
        );
      } catch (e) {
        // After a stall or a cut the connection is destroyed, so ssh2 fails the operation's
        // pending requests at once; wait (briefly) for it to close its files before reporting.
        if (work) await settled(work, SETTLE_MS);
        throw this.explain(e, what, path, s);
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private explain(e: unknown, what: string, path: string, s: Session): FerryError {
    const target = path ? ` '${path}'` : '';
    if (e instanceof IdleTimeoutError) {
      return new TransferError(`${this.label}: ${what}${target}: no progress for ${formatSeconds(e.idleMs)}; connection dropped`, { cause: e, transient: true });
    }
    if (e instanceof FerryError) return e;
    if (e instanceof LocalFileError) return new TransferError(`${this.label}: ${what}${target}: ${e.message}`, { cause: e });
    if (s.alive.signal.aborted) {
      return new TransferError(`${this.label}: connection lost during ${what}${target} (${s.endReason ?? 'closed'})`, { cause: e, transient: true });
    }
    if (isStatus(e)) {
      const reason = statusText(e);
      return new TransferError(`${this.label}: cannot ${what}${target}: ${reason}`, { cause: e });
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new TransferError(`${this.label}: ${what}${target} failed: ${msg}`, { cause: e, transient: isNetworkError(e) });
  }

  private transferTuning(s: Session, w: Watchdog, opts: TransferOptions, chunkSize: number): TransferTuning {
    return {
      concurrency: this.concurrency,
      chunkSize,
      signal: s.alive.signal,
      progress: (n) => {
        w.touch();
        opts.onProgress?.(n);
      },
    };
  }

  private async statOrUndefined(s: Session, p: string): Promise<Stats | undefined> {
    try {
      return await request<Stats>(s.alive.signal, (done) => s.sftp.stat(p, done));
    } catch (e) {
      if (isStatus(e, FX.NO_SUCH_FILE)) return undefined;
      throw e;
    }
  }

  /**
   * Map a connection path to the path sent to the server. Relative paths are relative to the
   * login folder and may not climb out of it; absolute paths are the partner's to give.
   */
  private remote(p: string): string {
    const n = posix.normalize(p || '.');
    if (n === '..' || n.startsWith('../')) {
      throw new TransferError(`${this.label}: path '${p}' climbs out of the login folder; use an absolute path if that is meant`);
    }
    return n.endsWith('/') && n.length > 1 ? n.slice(0, -1) : n;
  }

  /** Kill a session's connection (watchdog, close timeout); its operations fail at once. */
  private drop(s: Session, reason: string): void {
    s.endReason ??= reason;
    s.alive.abort(new Error(reason));
    s.sock.destroy();
  }

  private async connected(): Promise<Session> {
    if (this.session && !this.session.alive.signal.aborted) return this.session;
    this.session?.sock.destroy();
    this.session = undefined;
    this.session = await this.connect();
    return this.session;
  }

  /** Resolve secrets, open TCP, verify the host key, authenticate, start SFTP. */
  private async connect(): Promise<Session> {
    const { conn, where } = this;
    const base = this.ctx.projectDir;
    const host = conn.host;
    const port = this.port;
    const username = resolveSecret(conn.username, `${where}.username`, base);
    // resolveSecret registers env()/file() values for log scrubbing; inline strings too, here.
    const secret = (v: Parameters<typeof resolveSecret>[0], field: string) => {
      const value = resolveSecret(v, `${where}.${field}`, base);
      registerSecret(value);
      return value;
    };
    const password = conn.password === undefined ? undefined : secret(conn.password, 'password');
    const passphrase = conn.passphrase === undefined ? undefined : secret(conn.passphrase, 'passphrase');
    let key: ParsedKey | undefined;
    if (conn.privateKey !== undefined) {
      const parsed = sshUtils.parseKey(secret(conn.privateKey, 'privateKey').trim(), passphrase);
      const first = Array.isArray(parsed) ? (parsed[0] as ParsedKey | Error | undefined) : parsed;
      if (!first || first instanceof Error) {
        const why = first instanceof Error ? first.message : 'no key found';
        throw new ConfigError([`${where}.privateKey: cannot use the key (${why})${/passphrase/i.test(why) ? '; check passphrase' : ''}`]);
      }
      if (!first.isPrivateKey()) throw new ConfigError([`${where}.privateKey: this is a public key; give the private key file`]);
      key = first;
    }
    let agent: string | undefined;
    if (conn.agent === true) {
      agent = process.env.SSH_AUTH_SOCK;
      if (!agent) throw new ConfigError([`${where}.agent: true needs SSH_AUTH_SOCK, which is not set (is ssh-agent running?)`]);
    } else if (typeof conn.agent === 'string') {
      agent = conn.agent;
    }
    if (password === undefined && !key && !agent) {
      throw new ConfigError([`${where}: give a password, a privateKey or agent to log in with`]);
    }
    let knownHosts: { file: string; text: string } | undefined;
    if (conn.knownHosts !== undefined) {
      const file = resolvePath(base, conn.knownHosts);
      try {
        knownHosts = { file: conn.knownHosts, text: await readFile(file, 'utf8') };
      } catch (e) {
        throw new ConfigError([`${where}.knownHosts: cannot read '${conn.knownHosts}' (${(e as NodeJS.ErrnoException).code ?? 'error'})`], { cause: e });
      }
    }

    const timeoutMs = conn.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    const started = Date.now();
    const sock = new Socket();
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          sock.once('connect', resolve).once('error', reject);
          sock.connect(port, host);
        }),
        timeoutMs,
      );
    } catch (e) {
      sock.destroy();
      const code = (e as NodeJS.ErrnoException).code;
      const why = e === TIMEOUT ? `no answer within ${formatSeconds(timeoutMs)}` : (code ?? (e as Error).message);
      // A name that does not resolve is a config problem; anything else may heal by waiting.
      throw new TransferError(`${this.label}: cannot connect to ${host}:${port} (${why})`, { cause: e, transient: code !== 'ENOTFOUND' });
    }
    // ssh2 sends each SFTP request as its own small write; with Nagle on, one-request-at-a-time
    // transfers crawl at ~2 MB/s on delayed ACKs (PITFALLS §2). Set once connected, when the
    // socket has its handle.
    sock.setNoDelay(true);

    // The server's identification line ("SSH-2.0-OpenSSH_9.2p1 Debian-2"), for describe().
    let ident = '';
    const tap = (d: Buffer) => {
      ident += d.toString('latin1');
      const nl = ident.search(/\r?\n/);
      if (nl >= 0 || ident.length > 1024) {
        // Servers may send banner lines before the identification; keep the SSH- line.
        const line = ident.split(/\r?\n/).find((l) => l.startsWith('SSH-'));
        if (line !== undefined || ident.length > 1024) {
          ident = line ?? ident.slice(0, 255);
          sock.removeListener('data', tap);
        }
      }
    };
    sock.on('data', tap);

    const presented: { type: string; fingerprint: string; trust: string } = { type: '', fingerprint: '', trust: '' };
    let refusal: TransferError | undefined;
    const hostVerifier = (blob: Buffer): boolean => {
      presented.type = keyTypeOf(blob);
      presented.fingerprint = fingerprintOf(blob);
      const verdict = this.judgeHostKey(blob, host, port, knownHosts);
      if (!verdict.ok) {
        refusal = new TransferError(`${this.label}: ${verdict.message}`);
        return false;
      }
      presented.trust = verdict.trust;
      if (conn.insecureSkipHostKeyCheck) {
        // On every connect, so the setting cannot be forgotten in a production config.
        this.ctx.log.warn(
          { connection: this.connection, hostKey: presented.fingerprint },
          `${this.label}: host key check is OFF (insecureSkipHostKeyCheck); accepted ${presented.type} ${presented.fingerprint} from ${host}:${port}; remove the setting and pin it with hostKey: '${presented.fingerprint}'`,
        );
      }
      return true;
    };

    // Our own auth order (key, agent, password) so a failure can say what was tried.
    const plan: AnyAuthMethod[] = [];
    if (key) plan.push({ type: 'publickey', username, key });
    if (agent) plan.push({ type: 'agent', username, agent });
    if (password !== undefined) {
      plan.push({ type: 'password', username, password });
      // Servers that check passwords through PAM often offer only keyboard-interactive; answer
      // its hidden prompts with the password (a server asking more than that gets refused).
      plan.push({
        type: 'keyboard-interactive',
        username,
        prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map((p) => (p.echo ? '' : password))),
      });
    }
    const tried: string[] = [];
    let serverAllows: AuthenticationType[] | undefined;
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void) => {
      if (methodsLeft) serverAllows = methodsLeft;
      let m = plan.shift();
      // Skip what the server said it does not accept ("agent" authenticates as publickey).
      while (m && methodsLeft && !methodsLeft.includes(m.type === 'agent' ? 'publickey' : m.type)) m = plan.shift();
      if (!m) return next(false);
      // keyboard-interactive is only worth trying when the server says so, never blindly.
      if (m.type === 'keyboard-interactive' && !methodsLeft?.includes('keyboard-interactive')) return next(false);
      tried.push(m.type === 'publickey' ? `publickey (${key?.type ?? 'key'})` : m.type);
      next(m);
    };

    const client = new SshClient();
    const alive = new AbortController();
    let negotiated: NegotiatedAlgorithms | undefined;
    let lastError: Error | undefined;
    let session: Session | undefined;
    let rejectLost: (e: Error) => void = () => undefined;
    const lost = new Promise<never>((_resolve, reject) => {
      rejectLost = reject;
    });
    lost.catch(() => undefined);
    const onGone = () => {
      if (session) session.endReason ??= lastError ? describeSocketError(lastError) : 'closed by the server';
      alive.abort(lastError ?? new Error('connection closed'));
      rejectLost(lastError ?? new Error('connection closed'));
    };
    // Errors after login (ECONNRESET mid-transfer) arrive here; without a listener they would crash the process.
    client.on('error', (e: Error) => {
      lastError ??= e;
    });
    client.on('close', onGone);
    sock.on('close', onGone);
    client.on('handshake', (n: NegotiatedAlgorithms) => {
      negotiated = n;
    });

    const config: ConnectConfig = {
      sock,
      username,
      hostVerifier,
      // Cast: @types/ssh2 does not allow `false` ("no more methods"), which ssh2 documents.
      authHandler: authHandler as unknown as ConnectConfig['authHandler'],
      readyTimeout: Math.max(1, timeoutMs - (Date.now() - started)),
      keepaliveInterval: conn.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      ...(conn.algorithms ? { algorithms: conn.algorithms as ConnectConfig['algorithms'] } : {}),
    };

    try {
      const login = new Promise<SFTPWrapper>((resolve, reject) => {
        client.once('ready', () => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
        client.once('error', reject);
        client.once('close', () => reject(lastError ?? new Error('the server closed the connection during login')));
        try {
          client.connect(config);
        } catch (e) {
          // ssh2 throws synchronously for bad options (unknown algorithm names).
          reject(e);
        }
      });
      // ssh2's readyTimeout ends at authentication; the deadline also covers opening the SFTP
      // channel, which a half-broken server can leave unanswered.
      const sftp = await withTimeout(login, Math.max(1, timeoutMs - (Date.now() - started)));
      sock.removeListener('data', tap);
      const extensions = { ...((sftp as unknown as { _extensions?: Record<string, string> })._extensions ?? {}) };
      session = {
        client,
        sock,
        sftp,
        alive,
        lost,
        serverIdent: ident.trim() || 'unknown',
        hostKey: { ...presented },
        user: username,
        authMethod: tried[tried.length - 1] ?? 'none',
        negotiated,
        // ssh2 keeps the extensions from the server's SFTP VERSION packet there; no public getter.
        extensions,
        chunk: this.chunkSizes(sftp, extensions),
      };
      this.ctx.log.debug(
        { connection: this.connection, server: session.serverIdent, hostKey: presented.fingerprint, auth: session.authMethod, chunk: session.chunk },
        `${this.label}: connected to ${host}:${port}`,
      );
      return session;
    } catch (e) {
      sock.destroy();
      if (refusal) throw refusal;
      throw this.connectError(e, { username, tried, serverAllows, timeoutMs });
    }
  }

  /**
   * Request size for this server. A configured `chunkSize` wins. Otherwise, when the server
   * announced its limits (`limits@openssh.com`, OpenSSH 8.7+), use them, up to 255 KiB: on
   * loopback against OpenSSH 9.2, 255 KiB requests cut the client's CPU per GiB by about a
   * quarter on upload and download compared with 32 KiB (fewer requests to track in JS).
   * Servers that announce nothing get 32 KiB, which every server accepts.
   */
  private chunkSizes(sftp: SFTPWrapper, extensions: Record<string, string>): { read: number; write: number } {
    if (this.conn.chunkSize !== undefined) return { read: this.conn.chunkSize, write: this.conn.chunkSize };
    if (extensions['limits@openssh.com'] === undefined) return { read: DEFAULTS.chunkSize, write: DEFAULTS.chunkSize };
    // ssh2 stores the limits the server answered; read them defensively (private fields).
    const lim = sftp as unknown as { _maxReadLen?: unknown; _maxWriteLen?: unknown };
    const pick = (v: unknown) => (typeof v === 'number' && v >= DEFAULTS.chunkSize ? Math.min(v, MAX_CHUNK) : DEFAULTS.chunkSize);
    return { read: pick(lim._maxReadLen), write: pick(lim._maxWriteLen) };
  }

  /** Decide on a presented host key; the message tells the operator what to do. */
  private judgeHostKey(
    blob: Buffer,
    host: string,
    port: number,
    knownHosts: { file: string; text: string } | undefined,
  ): { ok: true; trust: string } | { ok: false; message: string } {
    const fp = fingerprintOf(blob);
    const of = `host key ${fp} of ${host}:${port}`;
    const kh = knownHosts ? checkKnownHosts(knownHosts.text, host, port, blob) : undefined;
    if (kh?.status === 'revoked') {
      return { ok: false, message: `${of} is marked @revoked in ${knownHosts?.file}; refusing to connect` };
    }
    if (this.pins.includes(fp)) return { ok: true, trust: 'yes (pinned)' };
    if (kh?.status === 'trusted') return { ok: true, trust: `yes (${knownHosts?.file})` };
    if (this.conn.insecureSkipHostKeyCheck) return { ok: true, trust: 'NO: not verified (insecureSkipHostKeyCheck)' };
    const expected = [...this.pins, ...(kh?.expected ?? [])];
    let why: string;
    if (expected.length) why = `expected ${[...new Set(expected)].join(' or ')}`;
    else if (knownHosts) why = `${knownHosts.file} has no entry for ${knownHostsName(host, port)}`;
    else why = 'no hostKey or knownHosts is configured';
    const advice = expected.length
      ? `if the server's key really changed (confirm with the partner), pin it with hostKey: '${fp}'`
      : `confirm the fingerprint with the partner, then pin it with hostKey: '${fp}'`;
    return { ok: false, message: `${of} is not trusted (${why}); ${advice}` };
  }

  private connectError(
    e: unknown,
    info: { username: string; tried: string[]; serverAllows?: AuthenticationType[]; timeoutMs: number },
  ): FerryError {
    const err = e as Error & { level?: string; code?: string };
    const dest = `${this.conn.host}:${this.port}`;
    if (err.level === 'client-authentication') {
      const allows = info.serverAllows ? `; server accepts: ${info.serverAllows.join(', ')}` : '';
      return new TransferError(
        `${this.label}: authentication failed for user '${info.username}' (methods tried: ${info.tried.join(', ') || 'none'}${allows})`,
        { cause: e },
      );
    }
    if (err.level === 'client-timeout' || (e as unknown) === TIMEOUT) {
      return new TransferError(`${this.label}: ${dest} did not complete the SSH login within ${formatSeconds(info.timeoutMs)}`, { cause: e, transient: true });
    }
    if (err.level === 'handshake' || err.level === 'protocol') {
      const hint = /no matching/i.test(err.message) ? '; the server may need legacy algorithms: see `algorithms` in the connection config' : '';
      return new TransferError(`${this.label}: SSH handshake with ${dest} failed: ${err.message}${hint}`, { cause: e });
    }
    if (e instanceof Error && /Unsupported algorithm/i.test(e.message)) {
      return new ConfigError([`${this.where}.algorithms: ${e.message}`], { cause: e });
    }
    return new TransferError(`${this.label}: login to ${dest} failed: ${e instanceof Error ? describeSocketError(e) : String(e)}`, {
      cause: e,
      transient: true,
    });
  }
}

function entryOf(name: string, path: string, a: Attributes): RemoteEntry {
  return {
    name,
    path,
    size: a.size,
    mtime: typeof a.mtime === 'number' ? a.mtime * 1000 : undefined,
    isFile: (a.mode & S_IFMT) === S_IFREG,
  };
}

/** Is `e` an SFTP status reply (optionally a given code)? ssh2 sets numeric `code` on those. */
function isStatus(e: unknown, code?: number): boolean {
  const c = (e as { code?: unknown } | undefined)?.code;
  return typeof c === 'number' && (code === undefined || c === code);
}

function statusText(e: unknown): string {
  const { code, message } = e as { code: number; message: string };
  switch (code) {
    case FX.NO_SUCH_FILE:
      return 'no such file or folder';
    case FX.PERMISSION_DENIED:
      return 'permission denied';
    case FX.OP_UNSUPPORTED:
      return 'the server does not support this operation';
    default:
      // OpenSSH answers most failures with a bare "Failure"; say so rather than guess.
      return message && message !== 'Failure' ? message : 'the server refused (SFTP "Failure", no reason given)';
  }
}

/** Network failures are worth retrying; everything else fails the same way again. */
function isNetworkError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENETDOWN|EAI_AGAIN)$/.test(code)) return true;
  return e instanceof Error && /No response from server|connection (lost|closed)|socket hang up|Not connected/i.test(e.message);
}

function describeSocketError(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
}

/** Wait until `p` settles or `ms` passed, whichever is first; never throws. */
async function settled(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.then(noop, noop), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
function noop(): void {}

const TIMEOUT = Symbol('timeout');
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(TIMEOUT), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
