/**
 * Running one export instance (one job, one business date):
 *
 *   lease → (resume the archived file | query → encode → archive + record) → deliver each
 *   destination atomically → record → release
 *
 * The produced file is archived and recorded before any delivery starts (the outbox): a failed
 * or crashed delivery is finished by the next run with the same bytes, without querying again.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DateTime } from 'luxon';
import type { LoadedExportJob } from '../config/load.js';
import type { BindValue, SourceDatabase } from '../database/types.js';
import {
  ConfigError,
  describeError,
  ExitCode,
  isFerryError,
  JobFailedError,
  TransferError,
  type ExitCodeValue,
} from '../errors.js';
import { encodeFile, fastPathCheck, fileHeaderBytes, fileTrailerBytes, crlfTransform, resolveColumns } from '../formats/index.js';
import type { EncodeOptions, EncodeStats } from '../formats/types.js';
import { writeFileAtomic, type WrittenFile } from '../fsutil.js';
import type { FileRecord } from '../state/types.js';
import type { RunContext } from '../types.js';
import { crashPoint } from './crash.js';
import { dayWindow } from './dates.js';
import { isTempOf } from './deliver.js';
import { deliverRecorded, verifyArchived, type DeliveryReport } from './outbox.js';
import type { ReceivedReport } from './receive.js';
import { userCode } from './user-code.js';
import { holdLease, reasonNotToRun } from './lease.js';
import { planExport, type ExportPlan } from './plan.js';
import type { Session } from './session.js';

export type InstanceOutcome =
  | 'sent'
  | 'resumed'
  | 'archived'
  | 'empty-skipped'
  | 'already-done'
  | 'excluded'
  | 'busy'
  | 'gave-up'
  | 'failed'
  | 'dry-run'
  | 'resent'
  | 'ingested'
  | 'ingested-late'
  | 'duplicate'
  | 'rejected'
  | 'waiting'
  | 'missing';

export interface InstanceResult {
  job: string;
  kind: 'export' | 'import';
  date: string;
  outcome: InstanceOutcome;
  exitCode: ExitCodeValue;
  file?: string;
  rows?: number;
  bytes?: number;
  sha256?: string;
  archivePath?: string;
  fastPath?: boolean;
  deliveries?: DeliveryReport[];
  /** Import jobs: each file received in this run. */
  received?: ReceivedReport[];
  error?: string;
  durationMs: number;
}

export interface RunOptions {
  force?: boolean;
  dryRun?: boolean;
  /** Manual commands report a held lease as exit 75; cron runs skip with 0. */
  busyIsError?: boolean;
}

/** Prefix ConfigError problems with the job file, so a user sees where to look. */
function inJob(job: LoadedExportJob, e: unknown): unknown {
  if (e instanceof ConfigError) return new ConfigError(e.problems.map((p) => (p.startsWith('jobs/') ? p : `${job.file}: ${p}`)), { cause: e });
  return e;
}

function exitCodeOf(e: unknown): ExitCodeValue {
  return isFerryError(e) ? e.exitCode : ExitCode.internal;
}

function runContext(session: Session, job: LoadedExportJob, date: DateTime): RunContext {
  const w = dayWindow(date);
  return { job: job.name, date: w.date, from: w.from, to: w.to, timezone: session.timezone };
}

async function queryParams(session: Session, job: LoadedExportJob, plan: ExportPlan, date: DateTime): Promise<Record<string, BindValue>> {
  const extra = job.def.source.params ? await userCode(job, 'source.params', () => job.def.source.params!(runContext(session, job, date))) : {};
  return { ...extra, ...plan.params };
}

/** Query the source and write the file into the archive. Returns what was written. */
async function produce(
  session: Session,
  job: LoadedExportJob,
  plan: ExportPlan,
  date: DateTime,
  archivePath: string,
): Promise<WrittenFile & { rows: number; fastPath: boolean }> {
  const def = job.def;
  const db: SourceDatabase = await session.database(def.source.connection);
  const params = await queryParams(session, job, plan, date);
  const qopts = { timezone: session.timezone };
  const stats: EncodeStats = { rows: 0 };
  const base = { format: def.format, timezone: session.timezone, businessDate: plan.businessDate, fileName: plan.name };

  if (db.exportCsv && def.source.fastPath !== false) {
    const columns = resolveColumns(def.format, await db.describe(def.source.sql, params, qopts));
    const opts: EncodeOptions = { ...base, columns };
    const check = fastPathCheck(opts);
    if (check.ok) {
      const fmt = def.format as { delimiter?: string; lineEnding?: string };
      const copy = await db.exportCsv(def.source.sql, params, { columns, delimiter: fmt.delimiter ?? ',', header: false, timezone: session.timezone });
      async function* chunks(): AsyncGenerator<Buffer> {
        const head = fileHeaderBytes(opts);
        if (head.length) yield head;
        if (fmt.lineEnding === 'crlf') {
          const t = crlfTransform();
          const done = pipeline(copy.stream, t);
          for await (const c of t) yield c as Buffer;
          await done;
        } else {
          for await (const c of copy.stream) yield c as Buffer;
        }
        stats.rows = copy.rowCount();
        const tail = fileTrailerBytes(opts, stats);
        if (tail.length) yield tail;
      }
      const bar = session.progress.start(plan.name, undefined, 'bytes');
      let bytes = 0;
      try {
        const w = await writeFileAtomic(archivePath, tap(chunks(), (c) => bar.update((bytes += c.length))), { exclusive: true });
        return { ...w, rows: stats.rows, fastPath: true };
      } finally {
        bar.done();
      }
    }
    session.log.debug({ job: job.name, reason: check.reason }, 'fast path not used');
  }

  const rs = await db.query(def.source.sql, params, qopts);
  const columns = resolveColumns(def.format, rs.columns);
  const bar = session.progress.start(plan.name, undefined, 'rows');
  try {
    const w = await writeFileAtomic(archivePath, tap(encodeFile(rs.rows, { ...base, columns }, stats), () => bar.update(stats.rows)), { exclusive: true });
    return { ...w, rows: stats.rows, fastPath: false };
  } finally {
    bar.done();
  }
}

/** Pass chunks through, calling `onChunk` for each (progress). */
async function* tap(chunks: AsyncIterable<Buffer>, onChunk: (c: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const c of chunks) {
    onChunk(c);
    yield c;
  }
}

/** Temporary files of a crashed attempt's write; we hold the lease, so nobody else writes them. */
async function removeStaleArchiveTemps(dir: string, name: string): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (isTempOf(entry, name)) await rm(join(dir, entry), { force: true });
  }
}

/** A free archive path for `name`: the plain one, or a per-attempt folder when taken. */
function archivePathFor(session: Session, plan: ExportPlan, attemptId: number): string {
  const dir = resolve(session.project.config.workDir, plan.archiveDir);
  const plain = join(dir, plan.name);
  return existsSync(plain) ? join(dir, `attempt-${attemptId}`, plan.name) : plain;
}

export async function runExportInstance(session: Session, job: LoadedExportJob, date: DateTime, opts: RunOptions = {}): Promise<InstanceResult> {
  const started = Date.now();
  const dateText = date.toFormat('yyyy-MM-dd');
  const result = (r: Partial<InstanceResult> & { outcome: InstanceOutcome; exitCode: ExitCodeValue }): InstanceResult => ({
    job: job.name,
    kind: 'export',
    date: dateText,
    ...r,
    durationMs: Date.now() - started,
  });
  const log = session.log.child({ job: job.name, date: dateText });
  const config = session.project.config;
  const maxAttempts = job.def.maxAttempts ?? config.maxAttempts;

  let state;
  try {
    state = await session.state();
  } catch (e) {
    return result({ outcome: 'failed', exitCode: exitCodeOf(e), error: describeError(e) });
  }

  if (opts.dryRun) {
    try {
      const plan = planExport(job, date, await state.maxSeq(job.name, dateText), session.now());
      const db = await session.database(job.def.source.connection);
      const params = await queryParams(session, job, plan, date);
      const columns = resolveColumns(job.def.format, await db.describe(job.def.source.sql, params, { timezone: session.timezone }));
      const check = fastPathCheck({ format: job.def.format, columns, timezone: session.timezone, businessDate: dateText, fileName: plan.name });
      const fast = Boolean(db.exportCsv) && job.def.source.fastPath !== false && check.ok;
      return result({
        outcome: 'dry-run',
        exitCode: ExitCode.ok,
        file: plan.name,
        fastPath: fast,
        deliveries: plan.destinations.map((d) => ({ connection: d.connection, path: d.dir ? `${d.dir}/${plan.name}` : plan.name, outcome: 'delivered' as const })),
      });
    } catch (e) {
      const err = inJob(job, e);
      return result({ outcome: 'failed', exitCode: exitCodeOf(err), error: describeError(err) });
    }
  }

  const existing = await state.getInstance(job.name, dateText);
  const skip = opts.force ? undefined : reasonNotToRun(existing, maxAttempts);
  if (skip) {
    if (skip.outcome === 'gave-up') log.error({ failures: existing?.failures }, 'instance failed too often; an operator must act (ferry run --force)');
    return result(skip);
  }

  const lease = await holdLease(session, job.name, dateText, 'export', log);
  if (!lease) {
    log.warn('another run holds this instance; skipping');
    return result({ outcome: 'busy', exitCode: opts.busyIsError ? ExitCode.busy : ExitCode.ok });
  }

  const attempt = await state.startAttempt(job.name, dateText, session.runId, Boolean(opts.force));
  crashPoint('after-attempt');
  let file: FileRecord | undefined;
  let fastPath: boolean | undefined;
  let resumed = false;
  const deliveries: NonNullable<InstanceResult['deliveries']> = [];
  try {
    const plan = planExport(job, date, await state.maxSeq(job.name, dateText), session.now());
    if (!opts.force) {
      const prev = await state.latestFile(job.name, dateText);
      if (prev) {
        await verifyArchived(session, prev, 'Run with --force to produce it again');
        file = prev;
        resumed = true;
        log.info({ file: prev.name }, 'resuming delivery of the archived file');
      }
    }
    if (!file) {
      const archivePath = archivePathFor(session, plan, attempt.id);
      await mkdir(resolve(archivePath, '..'), { recursive: true });
      await removeStaleArchiveTemps(resolve(archivePath, '..'), plan.name);
      log.info({ file: plan.name }, 'producing file');
      const w = await produce(session, job, plan, date, archivePath).catch((e) => {
        throw inJob(job, e);
      });
      fastPath = w.fastPath;
      crashPoint('after-archive');
      if (w.rows === 0 && (job.def.whenEmpty ?? 'send') !== 'send') {
        await rm(archivePath, { force: true });
        if (job.def.whenEmpty === 'fail') throw new JobFailedError(`the query returned no rows for ${dateText} and whenEmpty is 'fail'`);
        await state.finishAttempt(attempt.id, 'succeeded', { outcome: 'empty-skipped' });
        await state.setInstanceStatus(job.name, dateText, 'succeeded', { outcome: 'empty-skipped', error: null });
        log.info('no rows; nothing sent (whenEmpty: skip)');
        return result({ outcome: 'empty-skipped', exitCode: ExitCode.ok, rows: 0 });
      }
      file = await state.recordFile({
        attemptId: attempt.id,
        job: job.name,
        businessDate: dateText,
        name: plan.name,
        archivePath: relative(session.project.dir, archivePath),
        size: w.size,
        rows: w.rows,
        sha256: w.sha256,
        seq: plan.seq,
      });
      crashPoint('after-record');
      log.info({ file: file.name, rows: file.rows, bytes: file.size, sha256: file.sha256, fastPath }, 'file archived');
    }

    const { reports, failures } = await deliverRecorded(session, {
      job,
      file,
      date,
      destinations: plan.destinations,
      attemptId: attempt.id,
      log,
      skipRecorded: true,
      leaseLost: () => lease.lost(),
    });
    deliveries.push(...reports);
    if (failures.length) throw new TransferError(failures.join('; '));

    const outcome: InstanceOutcome = plan.destinations.length === 0 ? 'archived' : resumed ? 'resumed' : 'sent';
    await state.finishAttempt(attempt.id, 'succeeded', { outcome });
    await state.setInstanceStatus(job.name, dateText, 'succeeded', { outcome, error: null });
    return result({
      outcome,
      exitCode: ExitCode.ok,
      file: file.name,
      rows: file.rows,
      bytes: file.size,
      sha256: file.sha256,
      archivePath: file.archivePath,
      fastPath,
      deliveries,
    });
  } catch (e) {
    const msg = describeError(e);
    const code = exitCodeOf(e);
    log.error({ err: msg }, 'export failed');
    if (code === ExitCode.internal) log.error({ stack: e instanceof Error ? e.stack : undefined }, 'internal error');
    await state.finishAttempt(attempt.id, 'failed', { outcome: 'failed', error: msg });
    await state.setInstanceStatus(job.name, dateText, 'failed', { outcome: 'failed', error: msg });
    return result({
      outcome: 'failed',
      exitCode: code,
      error: msg,
      file: file?.name,
      rows: file?.rows,
      bytes: file?.size,
      sha256: file?.sha256,
      archivePath: file?.archivePath,
      fastPath,
      deliveries,
    });
  } finally {
    await lease.release();
  }
}
