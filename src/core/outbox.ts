/**
 * The outbox: recorded files in the local archive and their deliveries. Used by `run` (deliver,
 * or resume after a failure) and by `resend` (deliver the same bytes again).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DateTime } from 'luxon';
import type { LoadedExportJob } from '../config/load.js';
import { describeError, JobFailedError } from '../errors.js';
import { sha256File } from '../fsutil.js';
import type { Logger } from '../log.js';
import type { FileRecord } from '../state/types.js';
import { crashPoint } from './crash.js';
import { deliverFile, type DeliveryOutcome } from './deliver.js';
import { renderName } from './naming.js';
import type { PlannedDestination } from './plan.js';
import { withRetry } from './retry.js';
import type { Session } from './session.js';

export interface DeliveryReport {
  connection: string;
  path: string;
  outcome: DeliveryOutcome | 'failed';
  error?: string;
}

/** Check that the archived bytes are still exactly what was recorded. */
export async function verifyArchived(session: Session, file: FileRecord, hint: string): Promise<string> {
  const abs = resolve(session.project.dir, file.archivePath);
  const actual = existsSync(abs) ? await sha256File(abs) : undefined;
  if (!actual || actual.sha256 !== file.sha256) {
    throw new JobFailedError(`archived file ${file.archivePath} is ${actual ? 'changed' : 'missing'}; it cannot be delivered as recorded. ${hint}`);
  }
  return abs;
}

export function remotePathOf(dest: PlannedDestination, name: string): string {
  return dest.dir ? `${dest.dir.replace(/\/+$/, '')}/${name}` : name;
}

export interface DeliverRecordedRequest {
  job: LoadedExportJob;
  file: FileRecord;
  date: DateTime;
  destinations: PlannedDestination[];
  attemptId: number;
  log: Logger;
  /** Skip destinations that already have a successful delivery record (resume). */
  skipRecorded: boolean;
  /** An operator's resend: upload even if our bytes are already there, and mark the records. */
  resend?: boolean;
  /** Checked before each delivery; true stops the loop. */
  leaseLost?: () => boolean;
}

/** Deliver one recorded file to each destination with retries; record every outcome. */
export async function deliverRecorded(session: Session, req: DeliverRecordedRequest): Promise<{ reports: DeliveryReport[]; failures: string[] }> {
  const state = await session.state();
  const { job, file, log } = req;
  const localPath = await verifyArchived(session, file, 'Run with --force to produce it again');
  const recorded = req.skipRecorded ? await state.deliveriesOf(file.id) : [];
  const reports: DeliveryReport[] = [];
  const failures: string[] = [];
  for (const dest of req.destinations) {
    const remotePath = remotePathOf(dest, file.name);
    if (recorded.some((d) => d.connection === dest.connection && d.remotePath === remotePath && d.status !== 'failed')) {
      reports.push({ connection: dest.connection, path: remotePath, outcome: 'already-there' });
      continue;
    }
    if (req.leaseLost?.()) throw new JobFailedError('lost the lease to another run; stopping before the next delivery');
    const bar = session.progress.start(`${dest.connection}:${remotePath}`, file.size, 'bytes');
    try {
      const t = await session.transport(dest.connection);
      const src = { localPath, name: file.name, size: file.size, sha256: file.sha256 };
      const doneName = job.def.file.doneFile
        ? renderName(job.def.file.doneFile, { job: job.name, date: req.date, seq: file.seq, now: session.now(), file: file.name })
        : undefined;
      const target = {
        dir: dest.dir,
        ifExists: dest.ifExists,
        mkdir: dest.mkdir,
        checksum: job.def.file.checksum === 'sha256',
        doneName,
        reupload: req.resend,
        onProgress: (n: number) => bar.update(n),
      };
      const r = await withRetry(() => deliverFile(t, src, target), session.project.config.retry, (e, n, delay) =>
        log.warn({ connection: dest.connection, try: n, delayMs: delay, err: describeError(e) }, 'delivery failed; retrying'),
      );
      if (!r.atomic) log.warn({ connection: dest.connection }, 'the connection does not allow rename (atomic: false): the file was written under its final name');
      crashPoint('after-deliver');
      await state.recordDelivery({
        fileId: file.id,
        attemptId: req.attemptId,
        connection: dest.connection,
        remotePath: r.remotePath,
        status: r.outcome === 'skipped-exists' ? 'skipped-exists' : 'delivered',
        resend: req.resend,
      });
      reports.push({ connection: dest.connection, path: r.remotePath, outcome: r.outcome });
      log.info({ connection: dest.connection, path: r.remotePath, outcome: r.outcome }, req.resend ? 'resent' : 'delivered');
    } catch (e) {
      const msg = describeError(e);
      await state.recordDelivery({ fileId: file.id, attemptId: req.attemptId, connection: dest.connection, remotePath, status: 'failed', error: msg, resend: req.resend });
      reports.push({ connection: dest.connection, path: remotePath, outcome: 'failed', error: msg });
      failures.push(`${dest.connection}: ${msg}`);
      log.error({ connection: dest.connection, err: msg }, 'delivery failed');
    } finally {
      bar.done();
    }
  }
  return { reports, failures };
}
