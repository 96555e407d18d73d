/** Read-only views for `list`, `status` and `history`. */
import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import type { LoadedJob } from '../config/load.js';
import type { InstanceRecord } from '../state/types.js';
import { businessDateFor } from './dates.js';
import type { Session } from './session.js';

export interface JobListing {
  job: string;
  kind: 'export';
  description?: string;
  schedule?: string;
  nextDue?: string;
  source: string;
  destinations: string[];
  file: string;
  format: string;
}

export function nextDue(schedule: string | undefined, session: Session): string | undefined {
  if (!schedule) return undefined;
  const it = CronExpressionParser.parse(schedule, { tz: session.timezone, currentDate: session.now().toJSDate() });
  return DateTime.fromJSDate(it.next().toDate(), { zone: session.timezone }).toISO({ suppressMilliseconds: true }) ?? undefined;
}

export function listJobs(session: Session, jobs: LoadedJob[]): JobListing[] {
  return jobs.map((j) => ({
    job: j.name,
    kind: j.kind,
    description: j.def.description,
    schedule: j.def.schedule,
    nextDue: nextDue(j.def.schedule, session),
    source: j.def.source.connection,
    destinations: (j.def.deliver ?? []).map((d) => (d.dir ? `${d.connection}:${d.dir}` : d.connection)),
    file: j.def.file.name,
    format: j.def.format.type,
  }));
}

export interface StatusCell {
  date: string;
  /** 'sent' | 'resumed' | 'empty-skipped' | 'failed' | 'excluded' | 'running' | 'not-run' … */
  status: string;
  failures: number;
  error?: string;
}
export interface StatusRow {
  job: string;
  kind: 'export';
  cells: StatusCell[];
}

/** Jobs × the last `days` business dates (newest first), from the state store. */
export async function statusReport(session: Session, jobs: LoadedJob[], days: number): Promise<StatusRow[]> {
  const state = await session.state();
  const rows: StatusRow[] = [];
  for (const job of jobs) {
    const latest = businessDateFor(job.def.businessDate, session.now(), session.timezone);
    const since = latest.minus({ days: days - 1 }).toFormat('yyyy-MM-dd');
    const inst = await state.listInstances({ job: job.name, since });
    const byDate = new Map<string, InstanceRecord>(inst.map((i) => [i.businessDate, i]));
    const cells: StatusCell[] = [];
    for (let i = 0; i < days; i++) {
      const date = latest.minus({ days: i }).toFormat('yyyy-MM-dd');
      const r = byDate.get(date);
      cells.push(r ? cellOf(r, session) : { date, status: 'not-run', failures: 0 });
    }
    // Instances run for dates after the rule's latest date (explicit --date) still show.
    for (const r of inst) if (r.businessDate > latest.toFormat('yyyy-MM-dd')) cells.unshift(cellOf(r, session));
    rows.push({ job: job.name, kind: job.kind, cells });
  }
  return rows;
}

function cellOf(r: InstanceRecord, session: Session): StatusCell {
  const leased = r.leaseOwner && r.leaseExpiresAt && r.leaseExpiresAt > session.now().toMillis();
  const status = leased ? 'running' : r.status === 'succeeded' ? (r.outcome ?? 'succeeded') : r.status === 'pending' ? 'not-run' : r.status;
  return { date: r.businessDate, status, failures: r.failures, ...(r.lastError && r.status === 'failed' ? { error: r.lastError } : {}) };
}
