/**
 * `ferry resend`: deliver the archived bytes of an instance again, under the same name, to all
 * of the job's destinations or those of one connection. Nothing is queried; the sha256 of the
 * archived file is checked first. Each delivery is recorded as a resend of a new attempt.
 */
import type { DateTime } from 'luxon';
import type { LoadedExportJob } from '../config/load.js';
import { BusyError, describeError, ExitCode, isFerryError, JobFailedError, TransferError, UsageError } from '../errors.js';
import type { InstanceResult } from './export.js';
import { holdLease } from './lease.js';
import { deliverRecorded } from './outbox.js';
import { planExport } from './plan.js';
import type { Session } from './session.js';

export interface ResendRequest {
  job: LoadedExportJob;
  date: DateTime;
  /** Only the destinations on this connection. */
  to?: string;
}

export async function resendInstance(session: Session, req: ResendRequest): Promise<InstanceResult> {
  const started = Date.now();
  const { job, date } = req;
  const dateText = date.toFormat('yyyy-MM-dd');
  const log = session.log.child({ job: job.name, date: dateText });
  const state = await session.state();

  const file = await state.latestFile(job.name, dateText);
  if (!file) throw new JobFailedError(`${job.name} has no archived file for ${dateText}; run it first (ferry run ${job.name} --date ${dateText})`);
  let destinations = planExport(job, date, 0, session.now()).destinations;
  if (req.to) {
    const known = [...new Set(destinations.map((d) => d.connection))];
    destinations = destinations.filter((d) => d.connection === req.to);
    if (destinations.length === 0) {
      throw new UsageError(`--to ${req.to}: ${job.name} does not deliver to '${req.to}'; its destinations are ${known.join(', ') || '(none)'}`);
    }
  }
  if (destinations.length === 0) throw new UsageError(`${job.name} has no destinations to resend to`);

  const lease = await holdLease(session, job.name, dateText, 'export', log);
  if (!lease) throw new BusyError(`another run holds ${job.name} ${dateText}; try again when it has finished`);
  const attempt = await state.startAttempt(job.name, dateText, session.runId, true);
  try {
    const { reports, failures } = await deliverRecorded(session, {
      job,
      file,
      date,
      destinations,
      attemptId: attempt.id,
      log,
      skipRecorded: false,
      resend: true,
    });
    if (failures.length) throw new TransferError(failures.join('; '));
    await state.finishAttempt(attempt.id, 'succeeded', { outcome: 'resent' });
    return {
      job: job.name,
      kind: 'export',
      date: dateText,
      outcome: 'resent',
      exitCode: ExitCode.ok,
      file: file.name,
      rows: file.rows,
      bytes: file.size,
      sha256: file.sha256,
      archivePath: file.archivePath,
      deliveries: reports,
      durationMs: Date.now() - started,
    };
  } catch (e) {
    const msg = describeError(e);
    await state.finishAttempt(attempt.id, 'failed', { outcome: 'failed', error: msg });
    return {
      job: job.name,
      kind: 'export',
      date: dateText,
      outcome: 'failed',
      exitCode: isFerryError(e) ? e.exitCode : ExitCode.internal,
      file: file.name,
      error: msg,
      durationMs: Date.now() - started,
    };
  } finally {
    await lease.release();
  }
}
