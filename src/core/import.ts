/**
 * Running one import instance (one job, one business date):
 *
 *   lease → list the partner's folder → pick complete files (done file, or size and mtime stable)
 *   → download each to the local inbox (sha256 on the way) → receive (validate, load once,
 *   archive or reject) → remote after-action (move/delete) only once the local copy and its
 *   record are safe → missing after the deadline? exit 3
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DateTime } from 'luxon';
import type { LoadedImportJob } from '../config/load.js';
import { DEADLINE, DEFAULT_STABLE_FOR, isGlob, parseDuration } from '../config/job-rules.js';
import { describeError, DownloadLimitError, ExitCode, isFerryError, type ExitCodeValue, type FileProblem } from '../errors.js';
import { fsyncDir } from '../fsutil.js';
import type { InboxRecord } from '../state/types.js';
import { joinPosix, type RemoteEntry, type Transport } from '../transports/index.js';
import { crashPoint } from './crash.js';
import type { InstanceOutcome, InstanceResult, RunOptions } from './export.js';
import { holdLease, reasonNotToRun } from './lease.js';
import { renderName, renderPlaceholders, unsafeNameReason } from './naming.js';
import { dropEmptyInbox, sweepInstanceInbox } from './inbox-sweep.js';
import { discard, inboxDir, receiveFile, writeErrorReport, type ReceivedReport } from './receive.js';
import { withRetry } from './retry.js';
import type { Session } from './session.js';

/** Names a partner's upload tool uses while a file is still being written. */
const TEMPORARY = /(^\.|\.part$|\.tmp$|\.filepart$|\.partial$|\.crdownload$|~$)/i;
/** Waiting inside a run for a file to become stable is worth it up to this long. */
const MAX_IN_RUN_WAIT_MS = 60_000;
/** Default bound of one download (SPEC §4: 1 GB); `fetch.maxBytes` raises or lowers it. */
const DEFAULT_MAX_BYTES = 1_000_000_000;
/** A sidecar holds one hash and a name: anything bigger is not a sidecar. */
const MAX_SIDECAR_BYTES = 4096;

/** The instant after which a missing file is an alarm, or undefined when the job has no deadline. */
export function deadlineFor(job: LoadedImportJob, date: DateTime): DateTime | undefined {
  const m = job.def.deadline ? DEADLINE.exec(job.def.deadline) : null;
  if (!m) return undefined;
  const rule = job.def.businessDate ?? 'yesterday';
  // 'HH:mm' is on the day of the run: the business date itself for 'today', the next day for
  // 'yesterday'. '+Nd HH:mm' says it explicitly.
  const days = m[1] !== undefined ? Number(m[1]) : rule === 'yesterday' ? 1 : 0;
  return date.startOf('day').plus({ days }).set({ hour: Number(m[2]), minute: Number(m[3]), second: 0, millisecond: 0 });
}

/** A matcher for the file rule of a business date: an exact name, or a glob after placeholders. */
export function fileMatcher(job: LoadedImportJob, date: DateTime, now: DateTime): (name: string) => boolean {
  const pattern = renderPlaceholders(job.def.fetch.file, { job: job.name, date, seq: 1, now });
  if (!isGlob(pattern)) return (name) => name === pattern;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return (name) => re.test(name);
}

interface Candidate {
  entry: RemoteEntry;
  doneName?: string;
}

async function afterAction(t: Transport, job: LoadedImportJob, c: Candidate, dir: string): Promise<void> {
  try {
    await applyAfter(t, job, c, dir);
  } catch (e) {
    // Another run (a second host on the same inbox) may have moved it first: that is fine.
    if (await t.stat(c.entry.path).catch(() => 'unknown')) throw e;
  }
}

async function applyAfter(t: Transport, job: LoadedImportJob, c: Candidate, dir: string): Promise<void> {
  const after = job.def.fetch.after ?? 'keep';
  if (after === 'keep') return;
  const extras = [c.doneName, job.def.checks?.checksum === 'sha256-sidecar' ? `${c.entry.name}.sha256` : undefined].filter((x): x is string => Boolean(x));
  if (after === 'delete') {
    await t.remove(c.entry.path);
    for (const x of extras) await t.remove(joinPosix(dir, x)).catch(() => undefined);
    return;
  }
  await t.mkdir(after.moveTo);
  await t.rename(c.entry.path, joinPosix(after.moveTo, c.entry.name), { overwrite: true });
  for (const x of extras) {
    if (await t.stat(joinPosix(dir, x))) await t.rename(joinPosix(dir, x), joinPosix(after.moveTo, x), { overwrite: true });
  }
}

/** Expected `<name>.sha256` sidecar: present and equal to what we downloaded. */
async function checkSidecar(inbox: string, t: Transport, path: string, sha256: string): Promise<FileProblem[]> {
  const sidecar = `${path}.sha256`;
  if (!(await t.stat(sidecar))) return [{ message: `checksum sidecar ${sidecar} is missing` }];
  const tmp = join(inbox, `.sidecar-${randomBytes(6).toString('hex')}`);
  await mkdir(inbox, { recursive: true });
  try {
    try {
      await t.get(sidecar, tmp, { maxBytes: MAX_SIDECAR_BYTES });
    } catch (e) {
      if (e instanceof DownloadLimitError) return [{ message: `checksum sidecar ${sidecar} is bigger than ${MAX_SIDECAR_BYTES} bytes; not a sha256 sidecar` }];
      throw e;
    }
    const text = (await readFile(tmp, 'utf8')).trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    if (!/^[0-9a-f]{64}$/.test(text)) return [{ message: `checksum sidecar ${sidecar} does not hold a sha256` }];
    if (text !== sha256) return [{ message: `sha256 of the file is ${sha256} but the sidecar says ${text}` }];
    return [];
  } finally {
    await discard(tmp);
  }
}

export async function runImportInstance(session: Session, job: LoadedImportJob, date: DateTime, opts: RunOptions = {}): Promise<InstanceResult> {
  const started = Date.now();
  const dateText = date.toFormat('yyyy-MM-dd');
  const log = session.log.child({ job: job.name, date: dateText });
  const result = (r: Partial<InstanceResult> & { outcome: InstanceOutcome; exitCode: ExitCodeValue }): InstanceResult => ({
    job: job.name,
    kind: 'import',
    date: dateText,
    ...r,
    durationMs: Date.now() - started,
  });
  const fetch = job.def.fetch;
  const deadline = deadlineFor(job, date);

  let state;
  try {
    state = await session.state();
  } catch (e) {
    return result({ outcome: 'failed', exitCode: isFerryError(e) ? e.exitCode : ExitCode.internal, error: describeError(e) });
  }
  const existing = await state.getInstance(job.name, dateText);
  const maxAttempts = job.def.maxAttempts ?? session.project.config.maxAttempts;
  const skip = opts.force || opts.dryRun ? undefined : reasonNotToRun(existing, maxAttempts);
  if (skip) {
    if (skip.outcome === 'gave-up') log.error({ failures: existing?.failures }, 'instance failed too often; an operator must act (ferry run --force)');
    return result(skip);
  }

  const lease = opts.dryRun ? undefined : await holdLease(session, job.name, dateText, 'import', log);
  if (!opts.dryRun && !lease) {
    log.warn('another run holds this instance; skipping');
    return result({ outcome: 'busy', exitCode: opts.busyIsError ? ExitCode.busy : ExitCode.ok });
  }
  const attempt = opts.dryRun ? undefined : await state.startAttempt(job.name, dateText, session.runId, Boolean(opts.force));
  const reports: ReceivedReport[] = [];
  const inbox = inboxDir(session, job.name, dateText);
  try {
    if (lease) await sweepInstanceInbox(inbox, log);
    const t = await session.transport(fetch.connection);
    const dir = fetch.dir ?? '';
    const entries = await withRetry(() => t.list(dir || '.'), session.project.config.retry);
    const names = new Set(entries.map((e) => e.name));
    const doneNames = new Set(entries.map((e) => doneNameOf(job, date, session, e.name)).filter((n) => n !== undefined));
    const matches = fileMatcher(job, date, session.now());
    const problemsWithNames: string[] = [];
    let candidates: Candidate[] = [];
    for (const e of entries) {
      if (TEMPORARY.test(e.name) || !matches(e.name)) continue;
      if (!e.isFile) {
        // A link, FIFO, device or folder under a data file's name: never read, always said.
        log.warn({ name: JSON.stringify(e.name) }, 'matching entry is not a regular file (link, folder, FIFO or device); not read');
        continue;
      }
      const unsafe = unsafeNameReason(e.name);
      if (unsafe) {
        // Never used as a path: the report is named after a hash of the name.
        const msg = `refused a remote file name: ${unsafe}`;
        problemsWithNames.push(msg);
        const id = createHash('sha256').update(e.name).digest('hex').slice(0, 16);
        await writeErrorReport(resolve(session.project.config.workDir, 'error', job.name, `unsafe-name-${id}.error.json`), {
          job: job.name, businessDate: dateText, file: JSON.stringify(e.name), from: fetch.connection, reason: msg, problems: [{ message: msg }],
        });
        log.error({ name: JSON.stringify(e.name) }, msg);
        continue;
      }
      // Gate and sidecar files are never data, even when a glob matches them.
      if (e.name.endsWith('.sha256') || doneNames.has(e.name)) continue;
      candidates.push({ entry: e, doneName: fetch.doneFile ? doneNameOf(job, date, session, e.name) : undefined });
    }
    candidates.sort((a, b) => (fetch.order === 'mtime' ? (a.entry.mtime ?? 0) - (b.entry.mtime ?? 0) : 0) || (a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : 0));
    if (fetch.maxFiles) candidates = candidates.slice(0, fetch.maxFiles);

    if (opts.dryRun) {
      return result({
        outcome: 'dry-run',
        exitCode: ExitCode.ok,
        received: candidates.map((c) => ({ name: c.entry.name, outcome: 'ingested' as const, bytes: c.entry.size, sha256: '' })),
      });
    }

    const now = () => session.now();
    const stableMs = parseDuration(fetch.stableFor ?? DEFAULT_STABLE_FOR) ?? 0;
    let waiting = 0;
    let handledBefore = false;
    for (const c of candidates) {
      const e = c.entry;
      const mtime = e.mtime ?? null;
      const prior: InboxRecord[] = await state.inboxByRemote(job.name, fetch.connection, e.path, e.size, mtime);
      if (prior.some((p) => p.status === 'ingested' || p.status === 'duplicate')) {
        // Ingested by an earlier run that stopped before its after-action: finish that only.
        handledBefore = true;
        await afterAction(t, job, c, dir);
        continue;
      }
      if (prior.some((p) => p.status === 'rejected')) {
        log.debug({ file: e.name }, 'rejected before with the same size and time; waiting for a corrected file');
        continue;
      }
      if (e.size > (fetch.maxBytes ?? DEFAULT_MAX_BYTES)) {
        const msg = `${e.name} has ${e.size} bytes, more than fetch.maxBytes (${fetch.maxBytes ?? DEFAULT_MAX_BYTES}); not downloaded`;
        problemsWithNames.push(msg);
        await writeErrorReport(resolve(session.project.config.workDir, 'error', job.name, `${e.name}.error.json`), {
          job: job.name, businessDate: dateText, file: e.name, from: `${fetch.connection}:${e.path}`, size: e.size, reason: msg, problems: [{ message: msg }],
        });
        log.error({ file: e.name }, msg);
        continue;
      }
      // Complete files only: a done file, or size and mtime unchanged for stableFor.
      if (c.doneName && !names.has(c.doneName)) {
        log.info({ file: e.name, doneFile: c.doneName }, 'waiting for the done file');
        waiting++;
        continue;
      }
      if (!c.doneName && stableMs > 0) {
        const since = await state.observe(job.name, fetch.connection, e.path, e.size, mtime, now().toMillis());
        const left = stableMs - (now().toMillis() - since);
        if (left > 0) {
          if (left > MAX_IN_RUN_WAIT_MS) {
            log.info({ file: e.name, stableForMs: stableMs }, 'file not stable long enough yet');
            waiting++;
            continue;
          }
          log.info({ file: e.name, waitMs: left, stableForMs: stableMs }, 'waiting in this run for the file to stay unchanged for stableFor');
          await sleep(left);
          const again = await t.stat(e.path);
          if (!again || again.size !== e.size || (again.mtime ?? null) !== mtime) {
            await state.observe(job.name, fetch.connection, e.path, again?.size ?? 0, again?.mtime ?? null, now().toMillis());
            log.info({ file: e.name }, 'file still changing; waiting');
            waiting++;
            continue;
          }
        }
      }

      await mkdir(inbox, { recursive: true });
      const tmp = join(inbox, `.${e.name}.${randomBytes(4).toString('hex')}.part`);
      const bar = session.progress.start(`${fetch.connection}:${e.path}`, e.size, 'bytes');
      let got: { size: number; sha256: string };
      try {
        // Bounded by the listing's size too: a server cannot send more than it listed.
        const maxBytes = Math.min(fetch.maxBytes ?? DEFAULT_MAX_BYTES, Number.isFinite(e.size) ? e.size : Infinity);
        got = await withRetry(() => t.get(e.path, tmp, { onProgress: (n) => bar.update(n), maxBytes }), session.project.config.retry, (err, n, delay) =>
          log.warn({ file: e.name, try: n, delayMs: delay, err: describeError(err) }, 'download failed; retrying'),
        );
      } catch (err) {
        await discard(tmp);
        if (err instanceof DownloadLimitError) {
          // More bytes than listed: still being written (or a server lying about sizes). Either
          // way nothing beyond the bound was kept; the next listing decides again.
          log.warn({ file: e.name, listed: e.size, err: describeError(err) }, 'more bytes than the listing gave; not taken this run');
          waiting++;
          continue;
        }
        if ((await t.stat(e.path).catch(() => 'unknown')) === undefined) {
          log.info({ file: e.name }, 'the file went away while downloading (taken by another run?); skipping it');
          continue;
        }
        throw err;
      } finally {
        bar.done();
      }
      if (got.size !== e.size) {
        await discard(tmp);
        log.info({ file: e.name, listed: e.size, downloaded: got.size }, 'file changed while downloading; waiting');
        waiting++;
        continue;
      }
      crashPoint('import-after-download');
      const local = join(inbox, `${attempt!.id}-${e.name}`);
      await rename(tmp, local);
      await fsyncDir(inbox);
      const late = deadline !== undefined && now() > deadline;
      const pre = job.def.checks?.checksum === 'sha256-sidecar' ? await checkSidecar(inbox, t, e.path, got.sha256) : [];
      const report = await receiveFile(
        session,
        job,
        { localPath: local, name: e.name, size: got.size, sha256: got.sha256, connection: fetch.connection, remotePath: e.path, mtime, late, preProblems: pre },
        { attemptId: attempt!.id, date, log, force: opts.force },
      );
      reports.push(report);
      crashPoint('import-before-after-action');
      if (report.outcome === 'ingested' || report.outcome === 'duplicate') await afterAction(t, job, c, dir);
    }

    // The instance's outcome.
    const rejected = reports.filter((r) => r.outcome === 'rejected');
    const ingested = reports.filter((r) => r.outcome === 'ingested');
    let outcome: InstanceOutcome;
    let exitCode: ExitCodeValue = ExitCode.ok;
    let error: string | undefined;
    if (rejected.length || problemsWithNames.length) {
      outcome = 'rejected';
      exitCode = ExitCode.rejected;
      error = [...rejected.map((r) => r.error ?? r.name), ...problemsWithNames].join('; ');
      await state.setInstanceStatus(job.name, dateText, 'failed', { outcome, error });
    } else if (ingested.length) {
      outcome = ingested.some((r) => r.late) ? 'ingested-late' : 'ingested';
      await state.setInstanceStatus(job.name, dateText, 'succeeded', { outcome, error: null });
    } else if (reports.length || handledBefore) {
      outcome = reports.length ? 'duplicate' : 'already-done';
      await state.setInstanceStatus(job.name, dateText, 'succeeded', { outcome, error: null });
    } else if (deadline && now() > deadline) {
      outcome = 'missing';
      exitCode = ExitCode.missing;
      error = `no complete file matching ${fetch.file} in ${fetch.connection}:${fetch.dir ?? '.'} by the deadline ${deadline.toFormat('yyyy-MM-dd HH:mm ZZ')}${waiting ? ` (${waiting} not complete yet)` : ''}`;
      log.error({ deadline: deadline.toISO() }, error);
      await state.setInstanceStatus(job.name, dateText, 'pending', { outcome, error });
    } else {
      outcome = 'waiting';
      log.info({ deadline: deadline?.toISO() ?? null }, 'no complete file yet; waiting');
      await state.setInstanceStatus(job.name, dateText, 'pending', { outcome, error: null });
    }
    await state.finishAttempt(attempt!.id, exitCode === ExitCode.ok ? 'succeeded' : 'failed', { outcome, error: error ?? null });
    return result({
      outcome,
      exitCode,
      error,
      received: reports,
      rows: reports.reduce((n, r) => n + (r.rows ?? 0), 0),
      bytes: reports.reduce((n, r) => n + r.bytes, 0),
    });
  } catch (e) {
    const msg = describeError(e);
    const code = isFerryError(e) ? e.exitCode : ExitCode.internal;
    log.error({ err: msg }, 'import failed');
    if (code === ExitCode.internal) log.error({ stack: e instanceof Error ? e.stack : undefined }, 'internal error');
    if (attempt) {
      await state.finishAttempt(attempt.id, 'failed', { outcome: 'failed', error: msg });
      await state.setInstanceStatus(job.name, dateText, 'failed', { outcome: 'failed', error: msg });
    }
    return result({ outcome: 'failed', exitCode: code, error: msg, received: reports });
  } finally {
    if (lease) await dropEmptyInbox(inbox);
    await lease?.release();
  }
}

function doneNameOf(job: LoadedImportJob, date: DateTime, session: Session, file: string): string | undefined {
  const rule = job.def.fetch.doneFile;
  if (!rule) return undefined;
  try {
    return renderName(rule, { job: job.name, date, seq: 1, now: session.now(), file });
  } catch {
    return undefined;
  }
}
