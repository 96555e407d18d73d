/**
 * Local folder transport: a shared folder or a folder our own SFTP server exposes to the partner.
 * Uploads copy with fsync; `rename` without overwrite uses link()+unlink() so an existing target
 * is never replaced, even by a concurrent writer.
 */
import { constants as fsc, createWriteStream } from 'node:fs';
import { access, constants, link, lstat, mkdir, open, readdir, readlink, realpath, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DownloadLimitError, TargetExistsError, TransferError } from '../errors.js';
import { fsyncDir, fsyncPath, hashingStream, sha256File } from '../fsutil.js';
import type { RemoteEntry, TransferOptions, Transport, TransportCapabilities } from './types.js';

export class LocalTransport implements Transport {
  readonly capabilities: TransportCapabilities = { rename: true, atomicOverwrite: true, exclusiveRename: true, hashing: true };

  constructor(
    readonly connection: string,
    /** Absolute root folder. */
    private readonly root: string,
  ) {}

  /** Map a connection path to a local path, refusing anything that leaves the root. */
  private abs(p: string): string {
    const full = resolve(this.root, p.replace(/^\/+/, ''));
    const rel = relative(this.root, full);
    if (rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
      throw new TransferError(`${this.connection}: path '${p}' is outside the connection's root`);
    }
    return full;
  }

  private wrap(what: string, p: string, e: unknown): never {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TransferError(`${this.connection}: cannot ${what} '${p}'${code ? ` (${code})` : ''}`, {
      cause: e,
      // Local I/O errors other than a full disk or a busy file do not heal by waiting.
      transient: code === 'EBUSY' || code === 'EAGAIN',
    });
  }

  async list(dir: string): Promise<RemoteEntry[]> {
    const d = this.abs(dir);
    try {
      const names = await readdir(d, { withFileTypes: true });
      const out: RemoteEntry[] = [];
      for (const n of names) {
        // lstat: a symbolic link is never a file of this folder, whatever it points at.
        const st = await lstat(resolve(d, n.name)).catch(() => undefined);
        if (!st) continue;
        out.push({ name: n.name, path: joinPosix(dir, n.name), size: st.size, mtime: st.mtimeMs, isFile: st.isFile() });
      }
      return out;
    } catch (e) {
      return this.wrap('list', dir, e);
    }
  }

  async stat(p: string): Promise<RemoteEntry | undefined> {
    const full = this.abs(p);
    try {
      const st = await lstat(full);
      return { name: p.split('/').pop() ?? p, path: p, size: st.size, mtime: st.mtimeMs, isFile: st.isFile() };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return this.wrap('stat', p, e);
    }
  }

  async put(localPath: string, remotePath: string, opts: TransferOptions = {}): Promise<void> {
    const full = this.abs(remotePath);
    const dir = await realpath(dirname(full)).catch(() => undefined);
    if (dir) await this.insideRoot(remotePath, join(dir, basename(full)));
    try {
      await copyWithOneBuffer(localPath, full, opts);
    } catch (e) {
      await rm(full, { force: true }).catch(() => undefined);
      this.wrap('write', remotePath, e);
    }
  }

  async get(remotePath: string, localPath: string, opts: TransferOptions = {}): Promise<{ size: number; sha256: string }> {
    const full = this.abs(remotePath);
    const fh = await this.openRegular(remotePath, full);
    const hash = hashingStream();
    try {
      const limit = opts.maxBytes ?? Infinity;
      const bounded = new Transform({
        transform: (chunk: Buffer, _enc, cb) => {
          seen += chunk.length;
          if (seen > limit) cb(new DownloadLimitError(`${this.connection}: '${remotePath}': the file has more than ${limit} bytes (maxBytes); download stopped`, limit));
          else cb(null, chunk);
        },
      });
      let seen = 0;
      await pipeline(fh.createReadStream({ highWaterMark: 1 << 20, autoClose: false }), bounded, hash, progress(opts), createWriteStream(localPath, { mode: 0o600 }));
      await fsyncPath(localPath);
      return hash.result();
    } catch (e) {
      if (e instanceof TransferError) throw e;
      return this.wrap('read', remotePath, e);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /**
   * Open a file for reading only when it is a regular file inside the root, judged on the opened
   * descriptor: O_NOFOLLOW refuses a symbolic link as the last part, O_NONBLOCK keeps a FIFO from
   * blocking the open, fstat says what was opened, and the descriptor's own path (which the
   * kernel resolved, linked folders included) must lie inside the root. A name swapped after the
   * listing therefore cannot make us read anything else.
   */
  private async openRegular(p: string, full: string): Promise<FileHandle> {
    let fh: FileHandle;
    try {
      fh = await open(full, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new TransferError(`${this.connection}: '${p}' is a symbolic link; only regular files inside the folder are read`, { cause: e });
      return this.wrap('read', p, e);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new TransferError(`${this.connection}: '${p}' is not a regular file; only regular files inside the folder are read`);
      await this.insideRoot(p, await descriptorPath(fh, full));
      return fh;
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  /** The real path `real` must be inside the root's real path (a linked folder leads out). */
  private async insideRoot(p: string, real: string): Promise<void> {
    const root = await realpath(this.root);
    const rel = relative(root, real);
    if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
      throw new TransferError(`${this.connection}: '${p}' resolves outside the connection's root; refused`);
    }
  }

  /**
   * For a name we are about to rename or remove: it must be a regular file (not a link), and its
   * folder, resolved, must be inside the root. The check and the rename are two system calls,
   * so a local user who can write into the folder could still swap the name in between; a
   * partner's upload tool cannot create links, which is what this guards against.
   */
  private async checkRegularName(p: string, full: string, mustExist: boolean): Promise<void> {
    const st = await lstat(full).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' && !mustExist) return undefined;
      return this.wrap('read', p, e);
    });
    if (st && !st.isFile()) throw new TransferError(`${this.connection}: '${p}' is not a regular file; refused`);
    const dir = await realpath(dirname(full)).catch((e: unknown) => this.wrap('open folder of', p, e));
    await this.insideRoot(p, join(dir, basename(full)));
  }

  async rename(from: string, to: string, opts: { overwrite: boolean }): Promise<void> {
    const a = this.abs(from);
    const b = this.abs(to);
    await this.checkRegularName(from, a, true);
    await this.checkRegularName(to, b, false);
    try {
      if (opts.overwrite) await rename(a, b);
      else {
        await link(a, b);
        await unlink(a);
      }
      await fsyncDir(dirname(b));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new TargetExistsError(`${this.connection}: '${to}' already exists`, { cause: e });
      }
      this.wrap('rename to', to, e);
    }
  }

  async remove(p: string): Promise<void> {
    const full = this.abs(p);
    try {
      await this.checkRegularName(p, full, true);
      await unlink(full);
    } catch (e) {
      if (e instanceof TransferError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.wrap('remove', p, e);
    }
  }

  async mkdir(dir: string): Promise<void> {
    const full = this.abs(dir);
    try {
      await mkdir(full, { recursive: true });
    } catch (e) {
      this.wrap('create folder', dir, e);
    }
  }

  async sha256(p: string): Promise<string> {
    const full = this.abs(p);
    const fh = await this.openRegular(p, full);
    try {
      return (await sha256File(full, fh)).sha256;
    } catch (e) {
      return this.wrap('read', p, e);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  async describe(): Promise<Array<[string, string]>> {
    const st = await stat(this.root).catch(() => undefined);
    if (!st?.isDirectory()) throw new TransferError(`${this.connection}: folder ${this.root} does not exist`);
    await access(this.root, constants.W_OK).catch((e: unknown) => this.wrap('write into', this.root, e));
    return [
      ['folder', this.root],
      ['writable', 'yes'],
    ];
  }

  async close(): Promise<void> {}
}

/**
 * Copy through one reused buffer, then fsync. A stream pipeline allocates a fresh 1 MiB chunk per
 * read, and the garbage collector reclaims them late: tens of MiB of peak memory per delivery.
 */
async function copyWithOneBuffer(from: string, to: string, opts: TransferOptions): Promise<void> {
  const src = await open(from, 'r');
  try {
    // O_NOFOLLOW: a link planted under the delivery name is never written through.
    const dst = await open(to, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW);
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let done = 0;
      for (;;) {
        const { bytesRead } = await src.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        let off = 0;
        while (off < bytesRead) off += (await dst.write(buf, off, bytesRead - off)).bytesWritten;
        done += bytesRead;
        opts.onProgress?.(done);
      }
      await dst.sync();
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

/** A pass-through that reports bytes moved so far. */
function progress(opts: TransferOptions): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      opts.onProgress?.(n);
      cb(null, chunk);
    },
  });
}

/** The path the kernel resolved for an open descriptor (Linux), else the resolved name. */
async function descriptorPath(fh: FileHandle, name: string): Promise<string> {
  try {
    return await readlink(`/proc/self/fd/${fh.fd}`);
  } catch {
    return realpath(name);
  }
}

export function joinPosix(dir: string, name: string): string {
  if (!dir || dir === '.') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
