/** Read-only views for `list`, `status` and `history`. */
import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import type { LoadedJob } from '../config/load.js';
import type { InstanceRecord } from '../state/types.js';
import { businessDateFor } from './dates.js';
import type { Session } from './session.js';

export interface JobListing {
  job: string;
  kind: 'export' | 'import';
  description?: string;
  schedule?: string;
  nextDue?: string;
  /** Export: the source database. Import: where files are fetched from. */
  source: string;
  /** Export: delivery destinations. Import: the database loaded into. */
  destinations: string[];
  file: string;
  format: string;
  deadline?: string;
}

export function nextDue(schedule: string | undefined, session: Session): string | undefined {
  if (!schedule) return undefined;
  const it = CronExpressionParser.parse(schedule, { tz: session.timezone, currentDate: session.now().toJSDate() });
  return DateTime.fromJSDate(it.next().toDate(), { zone: session.timezone }).toISO({ suppressMilliseconds: true }) ?? undefined;
}

export function listJobs(session: Session, jobs: LoadedJob[]): JobListing[] {
  return jobs.map((j) => {
    const common = { job: j.name, description: j.def.description, schedule: j.def.schedule, nextDue: nextDue(j.def.schedule, session), format: j.def.format.type };
    if (j.kind === 'export') {
      return {
        ...common,
        kind: j.kind,
        source: j.def.source.connection,
        destinations: (j.def.deliver ?? []).map((d) => (d.dir ? `${d.connection}:${d.dir}` : d.connection)),
        file: j.def.file.name,
      };
    }
    const f = j.def.fetch;
    return {
      ...common,
      kind: j.kind,
      source: f.dir ? `${f.connection}:${f.dir}` : f.connection,
      destinations: [j.def.load ? `${j.def.load.connection}:${j.def.load.table}` : (j.def.ingest?.connection ?? '')],
      file: f.file,
      deadline: j.def.deadline,
    };
  });
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
  kind: 'export' | 'import';
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
  // The last outcome says most ('sent', 'ingested-late', 'waiting', 'missing', 'rejected'…).
  const status = leased ? 'running' : r.status === 'excluded' ? 'excluded' : (r.outcome ?? (r.status === 'pending' ? 'not-run' : r.status));
  return { date: r.businessDate, status, failures: r.failures, ...(r.lastError && r.status !== 'succeeded' ? { error: r.lastError } : {}) };
}
