/**
 * Crash-safe local file operations. A file appears under its final name only when complete
 * and on disk: write to a temporary dot-name in the same folder, fsync, rename, fsync the
 * folder. A crash at any line leaves either the old state or the new one, plus at most a
 * temporary file that no reader picks up (dot-names and `.part` are ignored everywhere).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

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
  const hash = hashingStream();
  try {
    await pipeline(source, hash, createWriteStream(tmp, { highWaterMark: 1 << 20 }));
    await fsyncPath(tmp);
    await commitTemp(tmp, path, opts.exclusive ?? false);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return hash.result();
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

export async function sha256File(path: string): Promise<WrittenFile> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: h.digest('hex') };
}
