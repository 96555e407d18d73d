/** `ferry run`: which instances to run, then run them one after another. */
import type { DateTime } from 'luxon';
import type { LoadedJob } from '../config/load.js';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import { businessDateFor } from './dates.js';
import { runExportInstance, type InstanceResult, type RunOptions } from './export.js';
import { runImportInstance } from './import.js';
import type { Session } from './session.js';

export interface RunRequest extends RunOptions {
  jobs: LoadedJob[];
  /** Explicit business dates; default: each job's own business date now. */
  dates?: DateTime[];
}

export async function runJobs(session: Session, req: RunRequest): Promise<InstanceResult[]> {
  const results: InstanceResult[] = [];
  for (const job of req.jobs) {
    const dates = req.dates ?? [businessDateFor(job.def.businessDate, session.now(), session.timezone)];
    for (const d of dates) {
      const day = d.setZone(session.timezone).startOf('day');
      results.push(job.kind === 'export' ? await runExportInstance(session, job, day, req) : await runImportInstance(session, job, day, req));
    }
  }
  return results;
}

/** The exit code of several outcomes: the most serious one wins. */
export function combinedExitCode(codes: ExitCodeValue[]): ExitCodeValue {
  const order: ExitCodeValue[] = [ExitCode.internal, ExitCode.usage, ExitCode.failed, ExitCode.rejected, ExitCode.missing, ExitCode.busy];
  for (const c of order) if (codes.includes(c)) return c;
  return ExitCode.ok;
}
