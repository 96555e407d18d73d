/**
 * Crash-safe local file operations. A file appears under its final name only when complete
 * and on disk: write to a temporary dot-name in the same folder, fsync, rename, fsync the
 * folder. A crash at any line leaves either the old state or the new one, plus at most a
 * temporary file that no reader picks up (dot-names and `.part` are ignored everywhere).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';

export interface WrittenFile {
  size: number;
  sha256: string;
}

export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.part`);
}

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a folder so a rename inside it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    await fsyncPath(dir);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** A pass-through stream that counts bytes and computes sha256 on the way. */
export function hashingStream(): Transform & { result(): WrittenFile } {
  const h = createHash('sha256');
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  }) as Transform & { result(): WrittenFile };
  let digest: string | undefined;
  t.result = () => {
    digest ??= h.digest('hex');
    return { size, sha256: digest };
  };
  return t;
}

/**
 * Write `source` to `path` atomically. With `exclusive`, fail with EEXIST instead of replacing
 * an existing file (link() is atomic and never clobbers).
 */
export async function writeFileAtomic(
  path: string,
  source: AsyncIterable<Buffer> | NodeJS.ReadableStream,
  opts: { exclusive?: boolean } = {},
): Promise<WrittenFile> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  let written: WrittenFile;
  try {
    written = await writeChunks(tmp, source);
    await fsyncPath(tmp);
    await commitTemp(tmp, path, opts.exclusive ?? false);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return written;
}

/**
 * Write every chunk of `source` to a new file at `file`, hashing on the way, with at most one
 * write in flight while the next chunk is produced.
 *
 * Why not `pipeline(source, hash, createWriteStream(…))`: its buffers (16 chunks in the readable
 * made from the iterator, the transform's, the write stream's 1 MiB) keep each chunk alive for
 * tens of milliseconds, long enough to be promoted out of V8's young generation. Chunks are
 * off-heap memory that old-generation GC reclaims only when external memory has grown by ~64 MiB,
 * so a large export kept that much in dead buffers. A chunk here lives for one write, dies young
 * and is freed by the next scavenge. One write in flight still overlaps disk and encoding.
 */
async function writeChunks(file: string, source: AsyncIterable<Buffer> | NodeJS.ReadableStream): Promise<WrittenFile> {
  const h = createHash('sha256');
  let size = 0;
  const fh = await open(file, 'w');
  // The write in flight, settled to its error (or null) at once: a failure must not count as an
  // unhandled rejection while the loop is still waiting for the next chunk.
  let pending: Promise<{ error: unknown } | null> | undefined;
  const settle = async (): Promise<void> => {
    const failed = await pending;
    pending = undefined;
    if (failed) throw failed.error;
  };
  try {
    for await (const item of source as AsyncIterable<Buffer | string>) {
      const chunk = typeof item === 'string' ? Buffer.from(item) : item;
      if (chunk.length === 0) continue;
      h.update(chunk);
      size += chunk.length;
      await settle();
      pending = writeAll(fh, chunk).then(
        () => null,
        (error: unknown) => ({ error }),
      );
    }
    await settle();
  } catch (e) {
    // Never close the file under a write still running; that write's own error is secondary.
    await pending;
    await fh.close().catch(() => undefined);
    throw e;
  }
  await fh.close();
  return { size, sha256: h.digest('hex') };
}

/** fs writes may be partial: write until the whole chunk is on its way to disk. */
async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** Move a finished temp file to its final name (same folder), atomically. */
export async function commitTemp(tmp: string, path: string, exclusive: boolean): Promise<void> {
  if (exclusive) {
    await link(tmp, path);
    await unlink(tmp);
  } else {
    await rename(tmp, path);
  }
  await fsyncDir(dirname(path));
}

/** sha256 and size of a file, read from `fh` when the caller opened it already (and keeps it). */
export async function sha256File(path: string, fh?: FileHandle): Promise<WrittenFile> {
  const h = createHash('sha256');
  let size = 0;
  const stream = fh ? fh.createReadStream({ highWaterMark: 1 << 20, autoClose: false, start: 0 }) : createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: h.digest('hex') };
}
