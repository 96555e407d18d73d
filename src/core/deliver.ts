/**
 * Atomic delivery of one produced file to one destination, the same for every transport:
 * upload under a temporary dot-name the partner's poller ignores, check the size, rename to the
 * final name; then the sha256 sidecar and the done file, each the same way. A crash at any
 * point leaves no partial file under a final name. Re-running after a crash is safe: a target
 * that already holds our exact bytes counts as delivered.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TargetExistsError, TransferError } from '../errors.js';
import { joinPosix, type Transport } from '../transports/index.js';
import type { IfExists } from '../types.js';
import { crashPoint } from './crash.js';

export interface DeliverySource {
  localPath: string;
  name: string;
  size: number;
  sha256: string;
}

export interface DeliveryTarget {
  dir: string;
  /** Upload again even when the target already holds our exact bytes (an operator's resend). */
  reupload?: boolean;
  /** Reports bytes uploaded so far. */
  onProgress?: (bytes: number) => void;
  ifExists: IfExists;
  mkdir: boolean;
  /** Write `<name>.sha256` after the data file. */
  checksum: boolean;
  /** Done-file name, written last. */
  doneName?: string;
}

export type DeliveryOutcome = 'delivered' | 'already-there' | 'skipped-exists';

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  remotePath: string;
  /** False when the connection cannot rename and the file was written under its final name. */
  atomic: boolean;
}

function tempName(name: string): string {
  return `.${name}.${randomBytes(4).toString('hex')}.part`;
}

/**
 * Is the file at `path` exactly our bytes? Sizes first; then sha256, on the server where the
 * transport can hash, else by downloading it (rare: only when the name is already taken).
 */
async function holdsSameBytes(t: Transport, path: string, src: DeliverySource, size: number): Promise<boolean> {
  if (size !== src.size) return false;
  if (t.sha256) return (await t.sha256(path)) === src.sha256;
  const dir = await mkdtemp(join(tmpdir(), 'ferry-verify-'));
  try {
    return (await t.get(path, join(dir, 'f'))).sha256 === src.sha256;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function putAtomic(
  t: Transport,
  localPath: string,
  dir: string,
  name: string,
  size: number,
  overwrite: boolean,
  onProgress?: (bytes: number) => void,
): Promise<void> {
  const final = joinPosix(dir, name);
  if (!t.capabilities.rename) {
    // The server forbids rename (`atomic: false`): write the final name directly and check it.
    await t.put(localPath, final, { onProgress });
    const st = await t.stat(final);
    if (!st || st.size !== size) {
      throw new TransferError(`${t.connection}: uploaded ${st?.size ?? 0} bytes of ${name} but the file has ${size}`, { transient: true });
    }
    return;
  }
  const tmp = joinPosix(dir, tempName(name));
  try {
    await t.put(localPath, tmp, { onProgress });
    const st = await t.stat(tmp);
    if (!st || st.size !== size) {
      throw new TransferError(`${t.connection}: uploaded ${st?.size ?? 0} bytes of ${name} but the file has ${size}`, { transient: true });
    }
    crashPoint('deliver-before-rename');
    await t.rename(tmp, final, { overwrite });
  } catch (e) {
    await t.remove(tmp).catch(() => undefined);
    throw e;
  }
}

/** Write a small text file (sidecar, done file) atomically, replacing an older one. */
async function putText(t: Transport, dir: string, name: string, text: string): Promise<void> {
  const local = await mkdtemp(join(tmpdir(), 'ferry-'));
  try {
    const p = join(local, 'f');
    await writeFile(p, text);
    await putAtomic(t, p, dir, name, Buffer.byteLength(text), true);
  } finally {
    await rm(local, { recursive: true, force: true });
  }
}

/**
 * Remove temporary uploads of `name` left by a crashed run. Safe: temporary names carry the
 * final name, and the caller holds the instance's lease, so no other run is writing them.
 */
async function removeStaleTemps(t: Transport, dir: string, names: string[]): Promise<void> {
  const entries = await t.list(dir || '.').catch(() => []);
  for (const e of entries) {
    if (names.some((n) => isTempOf(e.name, n))) await t.remove(joinPosix(dir, e.name)).catch(() => undefined);
  }
}

export function isTempOf(entry: string, name: string): boolean {
  return entry.startsWith(`.${name}.`) && /^\.[0-9a-f]{8}\.part$/.test(entry.slice(name.length + 1));
}

export async function deliverFile(t: Transport, src: DeliverySource, target: DeliveryTarget): Promise<DeliveryResult> {
  const remotePath = joinPosix(target.dir, src.name);
  if (target.mkdir) await t.mkdir(target.dir || '.');
  await removeStaleTemps(t, target.dir, [src.name, `${src.name}.sha256`, ...(target.doneName ? [target.doneName] : [])]);

  let outcome: DeliveryOutcome = 'delivered';
  const atomic = t.capabilities.rename;
  const existing = await t.stat(remotePath);
  let overwrite = target.ifExists === 'overwrite';
  if (existing) {
    if (await holdsSameBytes(t, remotePath, src, existing.size)) {
      if (target.reupload) overwrite = true;
      else outcome = 'already-there';
    } else if (target.ifExists === 'skip') return { outcome: 'skipped-exists', remotePath, atomic };
    else if (target.ifExists === 'fail') {
      throw new TargetExistsError(
        `${t.connection}: ${remotePath} already exists with other content (${existing.size} bytes); set ifExists: 'overwrite' or 'skip', or remove it`,
      );
    }
  }
  if (outcome === 'delivered') {
    try {
      await putAtomic(t, src.localPath, target.dir, src.name, src.size, overwrite, target.onProgress);
    } catch (e) {
      // Lost a race with another writer of the same name: judge what is there now.
      if (!(e instanceof TargetExistsError)) throw e;
      const now = await t.stat(remotePath);
      if (now && (await holdsSameBytes(t, remotePath, src, now.size))) outcome = 'already-there';
      else if (target.ifExists === 'skip') return { outcome: 'skipped-exists', remotePath, atomic };
      else throw e;
    }
  }
  crashPoint('deliver-after-data');
  if (target.checksum) await putText(t, target.dir, `${src.name}.sha256`, `${src.sha256}  ${src.name}\n`);
  if (target.doneName) await putText(t, target.dir, target.doneName, '');
  return { outcome, remotePath, atomic };
}
