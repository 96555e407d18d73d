/**
 * Local folder transport: a shared folder or a folder our own SFTP server exposes to the partner.
 * Uploads copy with fsync; `rename` without overwrite uses link()+unlink() so an existing target
 * is never replaced, even by a concurrent writer.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { access, constants, link, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TargetExistsError, TransferError } from '../errors.js';
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
        const st = await stat(resolve(d, n.name)).catch(() => undefined);
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
      const st = await stat(full);
      return { name: p.split('/').pop() ?? p, path: p, size: st.size, mtime: st.mtimeMs, isFile: st.isFile() };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return this.wrap('stat', p, e);
    }
  }

  async put(localPath: string, remotePath: string, opts: TransferOptions = {}): Promise<void> {
    const full = this.abs(remotePath);
    try {
      await copyWithOneBuffer(localPath, full, opts);
    } catch (e) {
      await rm(full, { force: true }).catch(() => undefined);
      this.wrap('write', remotePath, e);
    }
  }

  async get(remotePath: string, localPath: string, opts: TransferOptions = {}): Promise<{ size: number; sha256: string }> {
    const full = this.abs(remotePath);
    const hash = hashingStream();
    try {
      await pipeline(createReadStream(full, { highWaterMark: 1 << 20 }), hash, progress(opts), createWriteStream(localPath));
      await fsyncPath(localPath);
      return hash.result();
    } catch (e) {
      return this.wrap('read', remotePath, e);
    }
  }

  async rename(from: string, to: string, opts: { overwrite: boolean }): Promise<void> {
    const a = this.abs(from);
    const b = this.abs(to);
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
      await unlink(full);
    } catch (e) {
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
    try {
      return (await sha256File(full)).sha256;
    } catch (e) {
      return this.wrap('read', p, e);
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
    const dst = await open(to, 'w');
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

export function joinPosix(dir: string, name: string): string {
  if (!dir || dir === '.') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
