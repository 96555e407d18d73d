/**
 * Operators' ingest commands:
 * - `ferry ingest <job> --file PATH [--date D] [--force]`: a local file, by hand, through the same
 *   checks and the same exactly-once load as fetched files (`--force` loads it even if its sha256
 *   was ingested before).
 * - `ferry reingest <job> --date D`: the archived file of that date, loaded again (its earlier
 *   marker is replaced). With `mode: 'insert'` that adds the rows a second time: use upsert or
 *   replace for jobs that need reloads.
 */
import { createReadStream } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { DateTime } from 'luxon';
import type { LoadedImportJob } from '../config/load.js';
import { BusyError, describeError, ExitCode, isFerryError, JobFailedError, UsageError } from '../errors.js';
import { sha256File, writeFileAtomic } from '../fsutil.js';
import type { InstanceOutcome, InstanceResult } from './export.js';
import { holdLease } from './lease.js';
import { unsafeNameReason } from './naming.js';
import { dropEmptyInbox, sweepInstanceInbox } from './inbox-sweep.js';
import { inboxDir, receiveFile, type ReceivedReport } from './receive.js';
import type { Session } from './session.js';

export interface ManualIngestRequest {
  job: LoadedImportJob;
  date: DateTime;
  force: boolean;
  /** `ferry ingest --file`: the file to ingest. Absent for reingest (the archived file is used). */
  file?: string;
}

function outcomeOf(r: ReceivedReport): { outcome: InstanceOutcome; exitCode: (typeof ExitCode)[keyof typeof ExitCode] } {
  if (r.outcome === 'rejected') return { outcome: 'rejected', exitCode: ExitCode.rejected };
  if (r.outcome === 'duplicate') return { outcome: 'duplicate', exitCode: ExitCode.ok };
  return { outcome: 'ingested', exitCode: ExitCode.ok };
}

export async function ingestByHand(session: Session, req: ManualIngestRequest): Promise<InstanceResult> {
  const started = Date.now();
  const { job, date } = req;
  const dateText = date.toFormat('yyyy-MM-dd');
  const log = session.log.child({ job: job.name, date: dateText });
  const state = await session.state();

  let source: string;
  let name: string;
  if (req.file) {
    source = resolve(req.file);
    name = basename(source);
    const bad = unsafeNameReason(name);
    if (bad) throw new UsageError(`--file: ${bad}`);
  } else {
    const done = (await state.inboxOf(job.name, dateText)).filter((r) => r.status === 'ingested' && r.localPath);
    const last = done[done.length - 1];
    if (!last) throw new JobFailedError(`${job.name} has no ingested file for ${dateText} to reingest`);
    source = resolve(session.project.dir, last.localPath!);
    name = last.name;
    const actual = await sha256File(source).catch(() => undefined);
    if (!actual || actual.sha256 !== last.sha256) {
      throw new JobFailedError(`archived file ${last.localPath} is ${actual ? 'changed' : 'missing'}; it cannot be reingested as recorded`);
    }
  }

  const lease = await holdLease(session, job.name, dateText, 'import', log);
  if (!lease) throw new BusyError(`another run holds ${job.name} ${dateText}; try again when it has finished`);
  const attempt = await state.startAttempt(job.name, dateText, session.runId, req.force || !req.file);
  try {
    // Work on a copy inside the inbox: the original stays where the operator (or the archive) has it.
    const inbox = inboxDir(session, job.name, dateText);
    await sweepInstanceInbox(inbox, log);
    const local = join(inbox, `${attempt.id}-${name}`);
    let copied;
    try {
      // Opened lazily, inside the pipeline, so an unreadable file is a handled error, not a crash.
      copied = await writeFileAtomic(local, (async function* () {
        yield* createReadStream(source, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
      })());
    } catch (e) {
      throw new UsageError(`--file: cannot read ${req.file ?? source} (${(e as NodeJS.ErrnoException).code ?? describeError(e)})`, { cause: e });
    }
    const report = await receiveFile(
      session,
      job,
      { localPath: local, name, size: copied.size, sha256: copied.sha256, connection: '', remotePath: source, mtime: null, late: false },
      { attemptId: attempt.id, date, log, force: req.force || !req.file },
    );
    const { outcome, exitCode } = outcomeOf(report);
    const error = report.outcome === 'rejected' ? report.error : undefined;
    await state.finishAttempt(attempt.id, exitCode === ExitCode.ok ? 'succeeded' : 'failed', { outcome: req.file ? outcome : `re${outcome}`, error: error ?? null });
    await state.setInstanceStatus(job.name, dateText, exitCode === ExitCode.ok ? 'succeeded' : 'failed', { outcome, error: error ?? null });
    return {
      job: job.name,
      kind: 'import',
      date: dateText,
      outcome,
      exitCode,
      error,
      rows: report.rows,
      bytes: report.bytes,
      sha256: report.sha256,
      file: name,
      received: [report],
      durationMs: Date.now() - started,
    };
  } catch (e) {
    const msg = describeError(e);
    await state.finishAttempt(attempt.id, 'failed', { outcome: 'failed', error: msg });
    if (e instanceof UsageError) throw e;
    return {
      job: job.name,
      kind: 'import',
      date: dateText,
      outcome: 'failed',
      exitCode: isFerryError(e) ? e.exitCode : ExitCode.internal,
      error: msg,
      durationMs: Date.now() - started,
    };
  } finally {
    await dropEmptyInbox(inboxDir(session, job.name, dateText));
    await lease.release();
  }
}
