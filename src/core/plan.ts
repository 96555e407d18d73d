/**
 * Plan: the pure part of a run. File names, dates, folders and destinations are functions of
 * (job, business date, seq, clock); nothing here touches a database, a disk or a server.
 */
import { join } from 'node:path';
import type { DateTime } from 'luxon';
import type { LoadedExportJob } from '../config/load.js';
import type { IfExists } from '../types.js';
import { dayWindow, windowParams } from './dates.js';
import { renderName, usesSeq } from './naming.js';

export interface PlannedDestination {
  connection: string;
  dir: string;
  ifExists: IfExists;
  mkdir: boolean;
}

export interface ExportPlan {
  job: string;
  businessDate: string;
  name: string;
  seq: number;
  doneName?: string;
  checksum: boolean;
  /** Archive folder for this business date, relative to the work dir. */
  archiveDir: string;
  params: Record<string, string>;
  destinations: PlannedDestination[];
}

export function planExport(job: LoadedExportJob, date: DateTime, seqBefore: number, now: DateTime): ExportPlan {
  const def = job.def;
  const seq = usesSeq(def.file.name) ? seqBefore + 1 : 0;
  const name = renderName(def.file.name, { job: job.name, date, seq, now });
  const doneName = def.file.doneFile ? renderName(def.file.doneFile, { job: job.name, date, seq, now, file: name }) : undefined;
  return {
    job: job.name,
    businessDate: date.toFormat('yyyy-MM-dd'),
    name,
    seq,
    doneName,
    checksum: def.file.checksum === 'sha256',
    archiveDir: join('archive', job.name, date.toFormat('yyyy'), date.toFormat('MM')),
    params: windowParams(dayWindow(date)),
    destinations: (def.deliver ?? []).map((d) => ({
      connection: d.connection,
      dir: d.dir ?? '',
      ifExists: d.ifExists ?? 'fail',
      mkdir: d.mkdir ?? false,
    })),
  };
}
