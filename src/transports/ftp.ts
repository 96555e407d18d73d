/**
 * FTP and FTPS transport on basic-ftp (PITFALLS §4).
 *
 * - One control connection per transport, opened on first use and reused. basic-ftp allows one
 *   command at a time and *closes the client* when a second one starts, so every operation goes
 *   through a promise queue here and runs strictly after the previous one.
 * - After a timeout or a connection error basic-ftp's client is closed: the failing operation
 *   throws a transient TransferError and the next one connects again.
 * - FTPS: explicit (AUTH TLS) by default, implicit on request, plain FTP only when configured,
 *   with a warning on every connect. Certificates are always verified; a private CA is trusted
 *   through `ca`, never by turning verification off.
 * - Paths are relative to the folder the login starts in (PWD after login) and sent as absolute
 *   paths, so nothing depends on the working directory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat as fsStat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TLSSocket, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { Client, FTPContext, FTPError, FileType, type FileInfo } from 'basic-ftp';
import { DownloadLimitError, FerryError, TargetExistsError, TransferError } from '../errors.js';
import { fsyncPath, hashingStream } from '../fsutil.js';
import { registerSecret, resolveSecret } from '../secrets.js';
import type { FtpConnection } from '../types.js';
import { certificateProblem, describeCertificate, isCertificateError, upgradeToTls, watchPeerCertificate } from './ftp-tls.js';
import type { TransportContext } from './index.js';
import { joinPosix } from './local.js';
import type { RemoteEntry, TransferOptions, Transport, TransportCapabilities } from './types.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/**
 * Local read/write buffer size. Node's 64 KiB default means one syscall and one stream round
 * per 64 KiB; 1 MiB keeps the disk side far from being the bottleneck on fast links.
 */
const LOCAL_CHUNK = 1 << 20;
/** See lateEmptySource(). */
const EMPTY_UPLOAD_SETTLE_MS = 50;

/** Local file-system error codes that do not heal by waiting. */
const LOCAL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'ENOENT', 'EISDIR', 'ENOTDIR', 'EMFILE']);

/**
 * Create the FTP/FTPS transport for a connection. Nothing connects until the first operation.
 * `name` is the connection name used in messages; secrets are resolved on each connect.
 */
export function createFtpTransport(name: string, conn: FtpConnection, ctx: TransportContext): Transport {
  return new FtpTransport(name, conn, ctx);
}

/** What the current connection learned about the server, for `describe()`. */
interface Session {
  client: Client;
  /** Folder the login starts in: the connection's root. */
  startDir: string;
  welcome: string;
  features: Map<string, string>;
  certificate?: PeerCertificate;
  /** Set once a TLS data connection finished its handshake: did it resume the control session? */
  dataSessionReused?: boolean;
}

/** Stall detection for one operation; `fired` tells whether it closed the client. */
interface Watch {
  readonly fired: boolean;
  stop(): void;
}

class FtpTransport implements Transport {
  readonly capabilities: TransportCapabilities;
  private session: Session | undefined;
  /** Tail of the operation queue; every operation starts after it settles. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly idleMs: number;
  private readonly connectMs: number;
  private readonly secure: false | 'explicit' | 'implicit';

  constructor(
    readonly connection: string,
    private readonly conn: FtpConnection,
    private readonly ctx: TransportContext,
  ) {
    // RNFR/RNTO replaces an existing target on vsftpd, ProFTPD, Pure-FTPd and most Unix
    // servers (rename(2) underneath), so overwriting renames are atomic. There is no
    // "fail if exists" variant in FTP: overwrite:false is a check followed by the rename.
    this.capabilities = { rename: conn.atomic !== false, atomicOverwrite: true, exclusiveRename: false, hashing: false };
    this.idleMs = conn.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.connectMs = conn.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.secure = conn.secure ?? 'explicit';
  }

  // ---------------------------------------------------------------- queue, connect, errors

  /** Run `fn` after every earlier operation settled, whatever their outcome. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * One operation: queued, connected, watched for stalls, errors mapped to TransferError.
   * `what`/`path` name the operation in messages.
   */
  private op<T>(what: string, path: string, fn: (s: Session) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const s = await this.connected();
      const watch = this.watch(s.client);
      try {
        return await fn(s);
      } catch (e) {
        throw this.mapError(e, what, path, s.client, watch.fired);
      } finally {
        watch.stop();
      }
    });
  }

  private get host(): string {
    return this.conn.host;
  }

  private get port(): number {
    return this.conn.port ?? (this.secure === 'implicit' ? 990 : 21);
  }

  /** The current session, or a new one when there is none or the last one was closed. */
  private async connected(): Promise<Session> {
    if (this.session && !this.session.client.closed) return this.session;
    this.session?.client.close();
    this.session = undefined;
    const client = new Client(this.idleMs, { allowSeparateTransferHost: this.conn.allowSeparateTransferHost ?? false });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      client.close();
    }, this.connectMs);
    try {
      this.session = await this.login(client);
      return this.session;
    } catch (e) {
      client.close();
      if (timedOut) {
        throw new TransferError(`${this.connection}: could not connect to ${this.host}:${this.port} within ${this.connectMs / 1000} s`, {
          cause: e,
          transient: true,
        });
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connect, secure, log in and learn the server's features. Errors come out mapped. */
  private async login(client: Client): Promise<Session> {
    const where = `connections.${this.connection}`;
    const user = resolveSecret(this.conn.user, `${where}.user`, this.ctx.projectDir);
    const password = this.conn.password === undefined ? '' : resolveSecret(this.conn.password, `${where}.password`, this.ctx.projectDir);
    // A password written into the config as plain text must be scrubbed from logs too.
    registerSecret(password);
    const tlsOptions = this.secure ? this.tlsOptions() : undefined;
    let seenCertificate: () => PeerCertificate | undefined = () => undefined;
    const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        if (isCertificateError(e)) {
          throw new TransferError(`${this.connection}: ${certificateProblem(e, seenCertificate(), this.conn.servername ?? this.host)}`, { cause: e });
        }
        if (e instanceof FTPError && e.code === 530) {
          throw new TransferError(`${this.connection}: ${this.host}:${this.port} refused the login of user '${user}' (${oneLine(e.message)}); check user and password`, {
            cause: e,
          });
        }
        throw this.mapError(e, what, `${this.host}:${this.port}`, client, false);
      }
    };

    let welcome;
    if (this.secure === 'implicit') {
      // connectImplicitTLS creates the TLS socket synchronously; watch it before the handshake.
      const pending = client.connectImplicitTLS(this.host, this.port, { ...tlsOptions });
      seenCertificate = watchPeerCertificate(client.ftp.socket as TLSSocket);
      welcome = await step('connect to', () => pending);
    } else {
      welcome = await step('connect to', () => client.connect(this.host, this.port));
    }
    if (this.secure === 'explicit' && tlsOptions) {
      await step('start TLS with', () => client.send('AUTH TLS'));
      const upgrade = upgradeToTls(client.ftp.socket, tlsOptions);
      seenCertificate = upgrade.seen;
      const sock = await step('start TLS with', () => upgrade.done);
      // Same hand-over as basic-ftp's useTLS(): the context takes the upgraded socket and
      // keeps the options (with host/servername) for the TLS data connections.
      client.ftp.socket = sock;
      client.ftp.tlsOptions = tlsOptions;
    }
    if (!this.secure) {
      this.ctx.log.warn(
        { connection: this.connection, host: this.host },
        `${this.connection}: plain FTP (secure: false): the user name and password cross the network in clear text`,
      );
    }
    if (this.conn.atomic === false) {
      this.ctx.log.warn({ connection: this.connection }, `${this.connection}: atomic: false: files are written under their final name`);
    }
    await step('log in to', async () => {
      // As access() does: UTF-8 before login for non-ASCII user names, then binary mode etc.
      await client.sendIgnoringError('OPTS UTF8 ON');
      await client.login(user, password);
      await client.useDefaultSettings();
    });
    const features = await step('query', () => client.features());
    const startDir = await step('query', () => client.pwd());
    const session: Session = {
      client,
      startDir,
      welcome: oneLine(welcome.message).replace(/^\d{3}[ -]?/, ''),
      features,
      certificate: seenCertificate(),
    };
    if (client.ftp.socket instanceof TLSSocket) watchDataSessions(client.ftp, session);
    this.ctx.log.debug({ connection: this.connection, host: this.host, port: this.port, tls: describeProtocol(client) }, 'ftp connected');
    return session;
  }

  private tlsOptions(): ConnectionOptions {
    const where = `connections.${this.connection}`;
    const opts: ConnectionOptions = {
      // `host` binds the TLS session to the server so data connections may resume it.
      host: this.host,
      minVersion: 'TLSv1.2',
    };
    // SNI and name checks use `servername`; an IP address is not allowed as SNI (RFC 6066).
    const servername = this.conn.servername ?? (isIP(this.host) ? undefined : this.host);
    if (servername) opts.servername = servername;
    if (this.conn.ca !== undefined) opts.ca = resolveSecret(this.conn.ca, `${where}.ca`, this.ctx.projectDir);
    if (this.conn.tlsMaxVersion) opts.maxVersion = this.conn.tlsMaxVersion;
    return opts;
  }

  /**
   * Close the client when neither socket moved a byte (and no reply came) for `idleTimeoutMs`.
   * basic-ftp has timeouts of its own (set to the same value) but they are off between its
   * tasks and while a data transfer waits for the final reply on a stalled control link.
   */
  private watch(client: Client): Watch {
    let fired = false;
    let last = -1;
    let idle = 0;
    const step = Math.max(50, Math.min(1000, Math.floor(this.idleMs / 4)));
    const timer = setInterval(() => {
      const ctl = client.ftp.socket;
      const data = client.ftp.dataSocket;
      const moved = ctl.bytesRead + ctl.bytesWritten + (data ? data.bytesRead + data.bytesWritten : 0);
      // A download our own disk holds up (the pipe paused the socket) is not the server's
      // stall. Uploads read a local file, which does not stall for seconds.
      const waitingForUs = data !== undefined && data.isPaused();
      if (moved !== last || waitingForUs) {
        last = moved;
        idle = 0;
        return;
      }
      idle += step;
      if (idle >= this.idleMs) {
        fired = true;
        clearInterval(timer);
        client.close();
      }
    }, step);
    // A watchdog must never be the reason the process stays alive.
    timer.unref();
    return {
      get fired() {
        return fired;
      },
      stop: () => clearInterval(timer),
    };
  }

  /** Map anything an operation threw to the error callers get, closing a broken client. */
  private mapError(e: unknown, what: string, path: string, client: Client, stalled: boolean): FerryError {
    if (e instanceof FerryError) return e;
    const target = `${this.connection}: cannot ${what} '${path}'`;
    const message = e instanceof Error ? oneLine(e.message) : String(e);
    if (stalled || /^Timeout\b/.test(message) || /closed because Timeout/.test(message)) {
      client.close();
      return new TransferError(`${target}: no progress for ${Math.round(this.idleMs / 1000)} s; connection dropped`, { cause: e, transient: true });
    }
    if (e instanceof FTPError) {
      // 4xx replies are "try again later" (421 too many users, 425/426 data connection,
      // 450/451/452 busy or out of space for now); 5xx are permanent refusals.
      return new TransferError(`${target}: ${message}`, { cause: e, transient: e.code >= 400 && e.code < 500 });
    }
    if (isCertificateError(e)) {
      client.close();
      return new TransferError(`${target}: ${certificateProblem(e, undefined, this.conn.servername ?? this.host)}`, { cause: e });
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code && LOCAL_CODES.has(code)) {
      client.close();
      return new TransferError(`${target}: ${message}`, { cause: e });
    }
    // Everything else is the connection failing under us: ECONNRESET, ECONNREFUSED, EPIPE,
    // "Server closed connection unexpectedly", "Client is closed because …". basic-ftp has
    // already closed the client for these; closing again is harmless and makes sure the next
    // operation reconnects. Only a host name that does not exist will not heal by waiting.
    client.close();
    return new TransferError(`${target}: ${message}`, { cause: e, transient: code !== 'ENOTFOUND' });
  }

  /** Connection path → absolute server path under the start folder; refuses leaving it. */
  private remote(s: Session, p: string): string {
    const parts = checkPath(this.connection, p);
    const base = s.startDir.endsWith('/') ? s.startDir.slice(0, -1) : s.startDir;
    return parts.length ? `${base}/${parts.join('/')}` : s.startDir;
  }

  // ---------------------------------------------------------------- Transport

  async list(dir: string): Promise<RemoteEntry[]> {
    checkPath(this.connection, dir);
    return this.op('list', dir, async (s) => {
      const c = s.client;
      // Change into the folder and list it without an argument: a LIST argument is a glob
      // on many servers (vsftpd too), which would misread names containing * ? or [.
      await c.cd(this.remote(s, dir));
      let infos: FileInfo[];
      try {
        infos = await c.list();
      } finally {
        await c.cd(s.startDir);
      }
      const mlsd = s.features.has('MLST');
      const out: RemoteEntry[] = [];
      for (const f of infos) {
        if (f.name === '.' || f.name === '..') continue;
        const path = joinPosix(dir === '.' ? '' : dir, f.name);
        let mtime = f.modifiedAt?.getTime();
        // Unix LIST dates have no year (recent files) and no zone; MDTM is exact UTC.
        // One round trip per file: fine for the small folders of a file exchange.
        if (mtime === undefined && f.isFile && !mlsd) mtime = await lastModified(c, this.remote(s, path));
        out.push({ name: f.name, path, size: f.size, mtime, isFile: f.type === FileType.File });
      }
      return out;
    });
  }

  async stat(path: string): Promise<RemoteEntry | undefined> {
    checkPath(this.connection, path);
    return this.op('stat', path, async (s) => {
      const full = this.remote(s, path);
      const name = path.split('/').filter(Boolean).pop() ?? path;
      const size = await sizeOf(s.client, full);
      if (size !== undefined) return { name, path, size, mtime: await lastModified(s.client, full), isFile: true };
      return (await this.isFolder(s, full)) ? { name, path, size: 0, isFile: false } : undefined;
    });
  }

  /** SIZE refuses folders: a successful CWD tells a folder from nothing at all. */
  private async isFolder(s: Session, full: string): Promise<boolean> {
    try {
      await s.client.cd(full);
    } catch (e) {
      if (e instanceof FTPError && e.code >= 500) return false;
      throw e;
    }
    await s.client.cd(s.startDir);
    return true;
  }

  private async exists(s: Session, full: string): Promise<boolean> {
    return (await sizeOf(s.client, full)) !== undefined || (await this.isFolder(s, full));
  }

  async put(localPath: string, remotePath: string, opts: TransferOptions = {}): Promise<void> {
    checkPath(this.connection, remotePath);
    return this.op('upload to', remotePath, async (s) => {
      const full = this.remote(s, remotePath);
      const local = await fsStat(localPath).catch((e: unknown) => {
        throw new TransferError(`${this.connection}: cannot read '${localPath}' (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
      });
      s.client.trackProgress(opts.onProgress ? (info) => opts.onProgress?.(info.bytes) : undefined);
      try {
        const source = local.size === 0 && s.client.ftp.socket instanceof TLSSocket ? lateEmptySource() : createReadStream(localPath, { highWaterMark: LOCAL_CHUNK });
        await s.client.uploadFrom(source, full);
      } finally {
        s.client.trackProgress();
      }
      // The server says 226 when *it* thinks the transfer is complete; the size is the
      // cheap end-to-end check that no bytes were lost on the way.
      const size = await sizeOf(s.client, full);
      if (size !== local.size) {
        throw new TransferError(`${this.connection}: uploaded ${remotePath} but the server holds ${size ?? 'no'} bytes of ${local.size}`, { transient: true });
      }
    });
  }

  async get(remotePath: string, localPath: string, opts: TransferOptions = {}): Promise<{ size: number; sha256: string }> {
    checkPath(this.connection, remotePath);
    return this.op('download', remotePath, async (s) => {
      const full = this.remote(s, remotePath);
      const expected = await sizeOf(s.client, full);
      if (expected === undefined) throw new TransferError(`${this.connection}: cannot download '${remotePath}': no such file`);
      const limit = opts.maxBytes ?? Infinity;
      if (expected > limit) throw new DownloadLimitError(`${this.connection}: '${remotePath}': the server says ${expected} bytes, more than ${limit} (maxBytes); not downloaded`, limit);
      // Hash on the way to the disk: no second read of the file afterwards.
      const hash = hashingStream();
      // The server's SIZE is a claim: the bytes that arrive are counted and stopped at the bound.
      let seen = 0;
      const bounded = new Transform({
        transform: (chunk: Buffer, _enc, cb) => {
          seen += chunk.length;
          if (seen > limit) cb(new DownloadLimitError(`${this.connection}: '${remotePath}': more than ${limit} bytes arrived (maxBytes); download stopped`, limit));
          else cb(null, chunk);
        },
      });
      const written = pipeline(bounded, hash, createWriteStream(localPath, { highWaterMark: LOCAL_CHUNK, mode: 0o600 }));
      s.client.trackProgress(opts.onProgress ? (info) => opts.onProgress?.(info.bytes) : undefined);
      try {
        await s.client.downloadTo(bounded, full);
        await written;
        await fsyncPath(localPath);
      } catch (e) {
        bounded.destroy();
        await written.catch(() => undefined);
        await rm(localPath, { force: true }).catch(() => undefined);
        throw e;
      } finally {
        s.client.trackProgress();
      }
      const got = hash.result();
      if (got.size !== expected) {
        await rm(localPath, { force: true }).catch(() => undefined);
        throw new TransferError(`${this.connection}: downloaded ${got.size} bytes of ${remotePath} but the server holds ${expected}`, { transient: true });
      }
      return got;
    });
  }

  async rename(from: string, to: string, opts: { overwrite: boolean }): Promise<void> {
    checkPath(this.connection, from);
    checkPath(this.connection, to);
    return this.op('rename to', to, async (s) => {
      const target = this.remote(s, to);
      if (!opts.overwrite) {
        // FTP has no "rename unless the target exists". This check and the rename are two
        // commands: a file another client creates between them would be replaced. The window
        // is one round trip, and deliveries of one name are serialised by the instance lease.
        if ((await sizeOf(s.client, target)) !== undefined) throw new TargetExistsError(`${this.connection}: '${to}' already exists`);
      }
      await s.client.rename(this.remote(s, from), target);
    });
  }

  async remove(path: string): Promise<void> {
    checkPath(this.connection, path);
    return this.op('remove', path, async (s) => {
      const full = this.remote(s, path);
      try {
        await s.client.remove(full);
      } catch (e) {
        // 550 is both "no such file" and "not allowed" (or "a folder"): only the first is fine.
        if (e instanceof FTPError && e.code === 550 && !(await this.exists(s, full))) return;
        throw e;
      }
    });
  }

  async mkdir(dir: string): Promise<void> {
    const parts = checkPath(this.connection, dir);
    return this.op('create folder', dir, async (s) => {
      if (parts.length === 0) return;
      try {
        await s.client.ensureDir(this.remote(s, dir));
      } finally {
        // ensureDir leaves the working directory in the new folder.
        await s.client.cd(s.startDir);
      }
    });
  }

  async describe(): Promise<Array<[string, string]>> {
    return this.op('describe', `${this.host}:${this.port}`, async (s) => {
      // A listing opens a data connection: proves passive mode, PROT P and session reuse work.
      await s.client.list();
      const feats = [...s.features.keys()].sort();
      const tls = s.client.ftp.socket instanceof TLSSocket ? s.client.ftp.socket : undefined;
      const out: Array<[string, string]> = [
        ['server', `${s.welcome} (${this.host}:${this.port})`],
        [
          'tls',
          tls
            ? `${tls.getProtocol() ?? 'TLS'}${this.secure === 'implicit' ? ' (implicit)' : ''}, ${s.certificate ? describeCertificate(s.certificate) : 'certificate unknown'}`
            : 'none: plain FTP, user name and password cross the network in clear text',
        ],
        ['features', feats.length ? feats.join(', ') : 'none announced'],
        ['mlsd', s.features.has('MLST') ? 'yes' : 'no (LIST, modification times via MDTM)'],
        ['epsv', s.features.has('EPSV') ? 'yes' : 'no (PASV)'],
        [
          'tls session reuse',
          !tls ? 'n/a' : s.dataSessionReused === undefined ? 'unknown' : s.dataSessionReused ? 'data connections resume the control session' : 'not resumed',
        ],
        ['start folder', s.startDir],
      ];
      return out;
    });
  }

  async close(): Promise<void> {
    // Immediately: an operation still running fails (transient) rather than keeping the
    // process alive. A later operation would connect again.
    this.session?.client.close();
    this.session = undefined;
  }
}

// ---------------------------------------------------------------- helpers

/** Validate a connection path and split it into segments; refuses escaping the root. */
function checkPath(connection: string, p: string): string[] {
  if (/[\r\n\0]/.test(p)) throw new TransferError(`${connection}: path '${JSON.stringify(p)}' contains control characters`);
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) throw new TransferError(`${connection}: path '${p}' is outside the connection's root`);
      parts.pop();
    } else parts.push(seg);
  }
  return parts;
}

/** SIZE of a file; undefined when the server says there is none (550). */
async function sizeOf(c: Client, path: string): Promise<number | undefined> {
  try {
    return await c.size(path);
  } catch (e) {
    if (e instanceof FTPError && e.code === 550) return undefined;
    throw e;
  }
}

/** MDTM as epoch ms; undefined when the server cannot say. */
async function lastModified(c: Client, path: string): Promise<number | undefined> {
  try {
    return (await c.lastMod(path)).getTime();
  } catch (e) {
    if (e instanceof FTPError) return undefined;
    throw e;
  }
}

/**
 * Remember whether TLS data connections resume the control connection's session (servers like
 * vsftpd with `require_ssl_reuse` refuse them otherwise). basic-ftp offers no hook for new data
 * sockets, so the context's `dataSocket` setter is wrapped on this one instance.
 */
function watchDataSessions(ftp: FTPContext, session: Session): void {
  const desc = Object.getOwnPropertyDescriptor(FTPContext.prototype, 'dataSocket');
  if (!desc?.get || !desc.set) return;
  const { get, set } = desc;
  Object.defineProperty(ftp, 'dataSocket', {
    configurable: true,
    get() {
      return get.call(this) as unknown;
    },
    set(sock: unknown) {
      set.call(this, sock);
      if (sock instanceof TLSSocket) sock.once('secureConnect', () => (session.dataSessionReused = sock.isSessionReused()));
    },
  });
}

/**
 * The source of an empty upload over TLS: ends EMPTY_UPLOAD_SETTLE_MS after it is first read.
 * basic-ftp reads the source once the TLS data connection is up; ending it at once closes the
 * connection straight after the handshake, and vsftpd 3.0.3 then misses our close_notify
 * ("DATA connection terminated without SSL shutdown", 426, often a plain-text OOPS on the
 * control link): 10 of 10 empty uploads failed that way here, 0 of 120 with the pause. Uploads
 * with data are not affected: the data write orders the close after the handshake.
 */
function lateEmptySource(): Readable {
  let timer: NodeJS.Timeout | undefined;
  return new Readable({
    read() {
      timer ??= setTimeout(() => this.push(null), EMPTY_UPLOAD_SETTLE_MS);
    },
    destroy(err, cb) {
      clearTimeout(timer);
      cb(err);
    },
  });
}

function describeProtocol(c: Client): string {
  return c.ftp.socket instanceof TLSSocket ? (c.ftp.socket.getProtocol() ?? 'TLS') : 'none';
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
