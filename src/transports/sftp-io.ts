/**
 * File transfers over an ssh2 SFTP session: promise wrappers for the few raw requests the
 * transport needs, a pipelined upload and download ('fast'), and a one-request-at-a-time
 * variant through ssh2's streams ('stream').
 *
 * Why our own pipelined loops instead of ssh2's fastPut/fastGet: fastGet writes chunks to the
 * local file at random offsets, so the sha256 of a download would need a second pass over the
 * file; both report progress only through a `step` callback and leave error recovery after a
 * dropped connection to ssh2's internals. The loops here keep `concurrency` requests in flight
 * like fastPut/fastGet do, hash downloads in order while writing, and always close their
 * handles. Every reply calls `progress`, which feeds the transport's idle watchdog.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open as openLocal, type FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SFTPWrapper, Stats } from 'ssh2';

/** Tuning and progress reporting shared by all transfer functions. */
export interface TransferTuning {
  /** Requests in flight (pipelined functions only). */
  concurrency: number;
  /** Bytes per READ/WRITE request. */
  chunkSize: number;
  /** Total bytes moved so far; called on every reply. */
  progress: (bytes: number) => void;
  /**
   * Aborted when the session died. ssh2 silently drops requests sent on a closed channel and
   * never calls them back, so every request checks this first instead of hanging.
   */
  signal: AbortSignal;
  /** Downloads only: the most bytes a download may bring (the server's size claims are not trusted). */
  maxBytes?: number;
}

/** Thrown when a download would bring more than `maxBytes`: permanent, nothing beyond it is written. */
export class DownloadTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the file has more than ${limit} bytes (maxBytes); download stopped`);
  }
}

/** Result of a download: bytes written locally and their sha256 (hex). */
export interface Downloaded {
  size: number;
  sha256: string;
}

/**
 * Marks a failure of the local file system (as opposed to the remote side or the network),
 * so the transport can report it as such and not retry it as a network problem.
 */
export class LocalFileError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'LocalFileError';
  }
}

/** Run a local fs call, tagging its failure as a LocalFileError. */
async function local<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof LocalFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new LocalFileError(`${what}${code ? ` (${code})` : ''}`, code, { cause: e });
  }
}

// --- promise wrappers around the ssh2 callback API -------------------------------------------

/**
 * Send one SFTP request and wait for its reply. Requests in flight when the connection dies
 * are failed by ssh2 ("No response from server"); new ones are refused here (see `signal`).
 */
export function request<T>(signal: AbortSignal, send: (done: (err: Error | undefined | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    send((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

function sftpOpen(sftp: SFTPWrapper, signal: AbortSignal, path: string, flags: 'r' | 'w'): Promise<Buffer> {
  return request(signal, (done) => sftp.open(path, flags, done));
}
function sftpClose(sftp: SFTPWrapper, signal: AbortSignal, handle: Buffer): Promise<void> {
  return request(signal, (done) => sftp.close(handle, done));
}
function sftpFstat(sftp: SFTPWrapper, signal: AbortSignal, handle: Buffer): Promise<Stats> {
  return request(signal, (done) => sftp.fstat(handle, done));
}

/** Close a handle after a failure; the original error matters more than this one. */
function closeQuietly(sftp: SFTPWrapper, signal: AbortSignal, handle: Buffer): Promise<void> {
  return sftpClose(sftp, signal, handle).catch(() => undefined);
}

// --- pipelined ('fast') -------------------------------------------------------------------------

/** Local reads are done in blocks this big and cut into requests, to keep syscalls few. */
const LOCAL_BLOCK = 1 << 20;

/**
 * Upload with up to `concurrency` WRITE requests in flight. Resolves once the server
 * acknowledged every write and closed the handle; returns the number of bytes sent.
 */
export async function putPipelined(sftp: SFTPWrapper, localPath: string, remotePath: string, t: TransferTuning): Promise<number> {
  const fh = await local(`cannot read ${localPath}`, () => openLocal(localPath, 'r'));
  try {
    const size = (await local(`cannot read ${localPath}`, () => fh.stat())).size;
    const handle = await sftpOpen(sftp, t.signal, remotePath, 'w');
    try {
      await writeAll(sftp, handle, fh, localPath, size, t);
    } catch (e) {
      await closeQuietly(sftp, t.signal, handle);
      throw e;
    }
    // The server reports write errors of some file systems (NFS, quotas) only on close.
    await sftpClose(sftp, t.signal, handle);
    return size;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * The WRITE pump. Plain callbacks, no promise per request: at 30,000+ requests per GiB the
 * bookkeeping of promises (a race over the set in flight per chunk) cost a third of the
 * throughput in measurements. The local file is read in 1 MiB blocks, the next block while
 * the current one is being sent.
 */
function writeAll(sftp: SFTPWrapper, handle: Buffer, fh: FileHandle, localPath: string, size: number, t: TransferTuning): Promise<void> {
  const blockSize = Math.max(LOCAL_BLOCK - (LOCAL_BLOCK % t.chunkSize), t.chunkSize);
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    let inflight = 0;
    let acked = 0;
    let block: Buffer | undefined; // being sent
    let blockAt = 0; // file offset of `block`
    let sentInBlock = 0;
    let nextReadAt = 0; // file offset of the next local read
    let reading: Promise<void> | undefined;
    let prefetched: { data: Buffer; at: number } | undefined;

    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      // Requests still in flight complete (or fail) into nothing.
      reject(e);
    };
    const readAhead = () => {
      if (reading || prefetched || nextReadAt >= size || failed) return;
      const at = nextReadAt;
      const want = Math.min(blockSize, size - at);
      const buf = Buffer.allocUnsafe(want);
      nextReadAt += want;
      reading = local(`cannot read ${localPath}`, () => fh.read(buf, 0, want, at)).then(({ bytesRead }) => {
        reading = undefined;
        if (bytesRead !== want) throw new LocalFileError(`${localPath} changed size while it was being uploaded`, undefined, { cause: undefined });
        prefetched = { data: buf, at };
        pump();
      });
      reading.catch(fail);
    };
    const onWrite = (len: number) => (err: Error | undefined | null) => {
      inflight--;
      if (failed) return;
      if (err) return fail(err);
      acked += len;
      t.progress(acked);
      pump();
    };
    const pump = () => {
      while (!failed && inflight < t.concurrency) {
        if (!block || sentInBlock >= block.length) {
          if (!prefetched) break;
          block = prefetched.data;
          blockAt = prefetched.at;
          sentInBlock = 0;
          prefetched = undefined;
        }
        if (t.signal.aborted) return fail(t.signal.reason);
        const len = Math.min(t.chunkSize, block.length - sentInBlock);
        // ssh2 copies the data into its packet at once, so slices of one block are safe.
        inflight++;
        sftp.write(handle, block, sentInBlock, len, blockAt + sentInBlock, onWrite(len));
        sentInBlock += len;
      }
      readAhead();
      if (!failed && inflight === 0 && acked === size) resolve();
    };
    pump();
  });
}

/**
 * Download with up to `concurrency` READ requests in flight, writing and hashing the data in
 * order. The remote size (from fstat) bounds the requests; a file that ends early is an
 * error, since a partial download must not pass as complete. Falls back to sequential reads
 * until EOF when the server does not report a size.
 */
export async function getPipelined(sftp: SFTPWrapper, remotePath: string, localPath: string, t: TransferTuning): Promise<Downloaded> {
  const handle = await sftpOpen(sftp, t.signal, remotePath, 'r');
  let fh: FileHandle | undefined;
  try {
    const st = await sftpFstat(sftp, t.signal, handle);
    if (typeof st.size === 'number' && st.size > (t.maxBytes ?? Infinity)) throw new DownloadTooLarge(t.maxBytes!);
    fh = await local(`cannot write ${localPath}`, () => openLocal(localPath, 'w'));
    const result =
      typeof st.size === 'number' && st.isFile()
        ? await readKnownSize(sftp, handle, st.size, fh, localPath, t)
        : await readUntilEof(sftp, handle, fh, localPath, t);
    const out = fh;
    await local(`cannot write ${localPath}`, () => out.sync());
    await sftpClose(sftp, t.signal, handle);
    return result;
  } catch (e) {
    await closeQuietly(sftp, t.signal, handle);
    throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Read up to `len` bytes at `position` into `buf` (a fresh buffer when not given). */
function readChunk(sftp: SFTPWrapper, signal: AbortSignal, handle: Buffer, len: number, position: number, buf: Buffer = Buffer.allocUnsafe(len)): Promise<Buffer> {
  // ssh2 reports EOF as a read of 0 bytes (not an error) unless asked otherwise.
  return request<number>(signal, (done) => sftp.read(handle, buf, 0, len, position, (err, n) => done(err, n))).then((n) => buf.subarray(0, n));
}

function readKnownSize(
  sftp: SFTPWrapper,
  handle: Buffer,
  size: number,
  fh: FileHandle,
  localPath: string,
  t: TransferTuning,
): Promise<Downloaded> {
  const hash = createHash('sha256');
  return new Promise<Downloaded>((resolve, reject) => {
    let requested = 0; // next offset to ask for
    let inflight = 0;
    let committed = 0; // bytes written to the local file, in order
    let received = 0;
    let writing = false;
    let failed = false;
    /** Chunks that arrived but wait for an earlier one, by offset. */
    const arrived = new Map<number, Buffer>();
    /**
     * Full-size buffers whose data is on disk, reused for the next reads: allocating a fresh
     * buffer per request showed up as a tenth of the client's CPU (allocation and GC).
     */
    const spare: Buffer[] = [];

    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      // Let requests still in flight drain into nothing; their buffers are dropped.
      reject(e);
    };
    const issue = (position: number, len: number) => {
      inflight++;
      const buf = len === t.chunkSize ? spare.pop() : undefined;
      readChunk(sftp, t.signal, handle, len, position, buf).then((data) => {
        inflight--;
        if (failed) return;
        if (data.length === 0) {
          return fail(new Error(`${remoteLabel(position, size)}: the remote file ended early (it shrank while being read)`));
        }
        received += data.length;
        t.progress(received);
        arrived.set(position, data);
        // A server may answer with fewer bytes than asked; ask again for the rest.
        if (data.length < len) issue(position + data.length, len - data.length);
        flush();
        pump();
      }, fail);
    };
    const pump = () => {
      // Bound both requests in flight and chunks parked behind a slow one.
      while (!failed && requested < size && inflight < t.concurrency && inflight + arrived.size < 2 * t.concurrency) {
        const len = Math.min(t.chunkSize, size - requested);
        issue(requested, len);
        requested += len;
      }
      if (!failed && !writing && committed === size && inflight === 0) resolve({ size, sha256: hash.digest('hex') });
    };
    const flush = () => {
      if (writing || failed) return;
      const batch: Buffer[] = [];
      let at = committed;
      for (let next = arrived.get(at); next; next = arrived.get(at)) {
        arrived.delete(at);
        batch.push(next);
        at += next.length;
      }
      if (batch.length === 0) return;
      for (const b of batch) hash.update(b);
      writing = true;
      local(`cannot write ${localPath}`, () => fh.writev(batch, committed)).then(() => {
        writing = false;
        committed = at;
        for (const b of batch) {
          // A view of a whole chunk-sized buffer (see readChunk) can be refilled now.
          if (b.byteOffset === 0 && b.buffer.byteLength === t.chunkSize && b.length === t.chunkSize) spare.push(Buffer.from(b.buffer, 0, t.chunkSize));
        }
        flush();
        pump();
      }, fail);
    };
    pump();
  });
}

function remoteLabel(position: number, size: number): string {
  return `at byte ${position} of ${size}`;
}

/** One READ at a time until EOF, for servers that do not report a file's size. */
async function readUntilEof(sftp: SFTPWrapper, handle: Buffer, fh: FileHandle, localPath: string, t: TransferTuning): Promise<Downloaded> {
  const hash = createHash('sha256');
  let size = 0;
  for (;;) {
    const data = await readChunk(sftp, t.signal, handle, t.chunkSize, size);
    if (data.length === 0) break;
    // No size from the server: an endless file is stopped at the bound, not at a full disk.
    if (size + data.length > (t.maxBytes ?? Infinity)) throw new DownloadTooLarge(t.maxBytes!);
    hash.update(data);
    await local(`cannot write ${localPath}`, () => fh.write(data, 0, data.length, size));
    size += data.length;
    t.progress(size);
  }
  return { size, sha256: hash.digest('hex') };
}

// --- one request at a time ('stream') -----------------------------------------------------------

/** Counts bytes through a pipeline and reports them. */
function counter(progress: (bytes: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      progress(n);
      cb(null, chunk);
    },
  });
}

/**
 * Upload through ssh2's write stream: one WRITE in flight at a time, for servers that corrupt
 * or reject pipelined writes. We open and close the handle ourselves because ssh2's streams do
 * not emit 'close' after an error and hide the server's answer to CLOSE.
 */
export async function putStreamed(sftp: SFTPWrapper, localPath: string, remotePath: string, t: TransferTuning): Promise<number> {
  const source = createReadStream(localPath, { highWaterMark: t.chunkSize });
  // Open the local file first: a missing local file is not the server's fault.
  await local(`cannot read ${localPath}`, () => new Promise<void>((resolve, reject) => source.once('open', () => resolve()).once('error', reject)));
  const handle = await sftpOpen(sftp, t.signal, remotePath, 'w').catch((e: unknown) => {
    source.destroy();
    throw e;
  });
  let sent = 0;
  try {
    // ssh2 acknowledges a chunk only after the server's reply, so the writable's buffer (one
    // chunk) bounds how far the count below runs ahead of what the server confirmed.
    const sink = sftp.createWriteStream(remotePath, { handle, autoClose: false, highWaterMark: t.chunkSize });
    await pipeline(
      source,
      counter((n) => {
        sent = n;
        t.progress(n);
      }),
      sink,
    );
  } catch (e) {
    // pipeline() destroyed the sink, which already sent a CLOSE; this one only covers the
    // case where it did not, and its error (unknown handle) is ignored.
    await closeQuietly(sftp, t.signal, handle);
    throw e;
  }
  await sftpClose(sftp, t.signal, handle);
  return sent;
}

/**
 * Download through ssh2's read stream (one READ in flight at a time), hashing on the way into
 * the local file, which is fsynced before returning.
 */
export async function getStreamed(sftp: SFTPWrapper, remotePath: string, localPath: string, t: TransferTuning): Promise<Downloaded> {
  const handle = await sftpOpen(sftp, t.signal, remotePath, 'r');
  const hash = createHash('sha256');
  let size = 0;
  try {
    const source = sftp.createReadStream(remotePath, { handle, autoClose: false, highWaterMark: t.chunkSize });
    const sink = createWriteStream(localPath);
    await pipeline(
      source,
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          if (size + chunk.length > (t.maxBytes ?? Infinity)) return cb(new DownloadTooLarge(t.maxBytes!));
          hash.update(chunk);
          size += chunk.length;
          t.progress(size);
          cb(null, chunk);
        },
      }),
      sink,
    ).catch((e: unknown) => {
      // A failure of the local file gets tagged so it is not mistaken for a network problem.
      if ((e as NodeJS.ErrnoException).syscall) throw new LocalFileError(`cannot write ${localPath} (${(e as NodeJS.ErrnoException).code})`, (e as NodeJS.ErrnoException).code, { cause: e });
      throw e;
    });
    const fh = await local(`cannot write ${localPath}`, () => openLocal(localPath, 'r+'));
    try {
      await local(`cannot write ${localPath}`, () => fh.sync());
    } finally {
      await fh.close();
    }
  } catch (e) {
    await closeQuietly(sftp, t.signal, handle);
    throw e;
  }
  await sftpClose(sftp, t.signal, handle);
  return { size, sha256: hash.digest('hex') };
}
