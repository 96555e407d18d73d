/**
 * The receive pipeline for one local copy of a partner file, shared by fetching imports,
 * `ferry ingest --file` and `ferry reingest`:
 *
 *   record in the inbox → duplicate? (marker in the target database) → decode + validate rows
 *   → load in ONE transaction of the target database, with the marker row, checks last
 *   → archive (or error folder with a .error.json) → inbox status
 *
 * "Exactly once" rests on the marker row `ferry_ingested_files(job, sha256)` that commits in the
 * same transaction as the rows: a crash before the commit leaves no rows and no marker; a crash
 * after it leaves a marker, so the next run sees a duplicate and only tidies up.
 */
import { createReadStream, existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { DateTime } from 'luxon';
import type { LoadedImportJob } from '../config/load.js';
import type { LoadTarget, SourceDatabase } from '../database/types.js';
import { ConfigError, DuplicateIngestError, type FileProblem, RejectedFileError, RejectedRowError } from '../errors.js';
import { checkTrailer, decodeFile, resolveImportColumns } from '../formats/index.js';
import type { DecodedRow, DecodeSummary, ImportColumn } from '../formats/types.js';
import { fsyncDir, writeFileAtomic } from '../fsutil.js';
import type { Logger } from '../log.js';
import type { InboxRecord } from '../state/types.js';
import type { Value } from '../values.js';
import { crashPoint } from './crash.js';
import { dayWindow } from './dates.js';
import type { Session } from './session.js';
import { userCode } from './user-code.js';

export type ReceivedOutcome = 'ingested' | 'duplicate' | 'rejected' | 'failed';

export interface ReceivedReport {
  name: string;
  outcome: ReceivedOutcome;
  rows?: number;
  bytes: number;
  sha256: string;
  late?: boolean;
  /** Where the local copy is now (archive or error folder), relative to the project. */
  localPath?: string;
  error?: string;
  problems?: FileProblem[];
}

export interface ReceivedFile {
  /** A local file inside the work dir's inbox, owned by this run. */
  localPath: string;
  name: string;
  size: number;
  sha256: string;
  connection: string;
  remotePath: string;
  mtime: number | null;
  late: boolean;
  /** Problems found before reading (checksum sidecar): the file is rejected without loading. */
  preProblems?: FileProblem[];
}

export interface ReceiveOptions {
  attemptId: number;
  date: DateTime;
  log: Logger;
  /** Ingest even if this file's sha256 was ingested before (operator's reingest / --force). */
  force?: boolean;
}

function workPath(session: Session, ...parts: string[]): string {
  return resolve(session.project.config.workDir, ...parts);
}

/** A path for `name` inside `dir` that is free: the plain one, or one in an attempt folder. */
function freePath(dir: string, name: string, attemptId: number): string {
  const plain = join(dir, name);
  return existsSync(plain) ? join(dir, `attempt-${attemptId}`, name) : plain;
}

async function moveInto(from: string, dir: string, name: string, attemptId: number): Promise<string> {
  const to = freePath(dir, name, attemptId);
  await mkdir(dirname(to), { recursive: true });
  await rename(from, to);
  await fsyncDir(dirname(to));
  return to;
}

/** The database this job loads into. */
export function targetConnection(job: LoadedImportJob): string {
  return job.def.load?.connection ?? job.def.ingest!.connection;
}

/** Resolve the file's columns, naming the job file in configuration errors. */
export function importColumns(job: LoadedImportJob): ImportColumn[] {
  try {
    return resolveImportColumns(job.def.format);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.problems.map((p) => `${job.file}: ${p}`), { cause: e });
    throw e;
  }
}

/** Rows as the target wants them: the file's columns, plus constant columns `replace` needs. */
function loadTarget(job: LoadedImportJob, columns: ImportColumn[], dateText: string, fileName: string): { target: LoadTarget; extra: Value[] } {
  const load = job.def.load!;
  const names = columns.map((c) => c.target);
  const extra: Value[] = [];
  let replace: LoadTarget['replace'];
  if (load.mode === 'replace' && load.replaceBy) {
    const [column, value] = 'dateColumn' in load.replaceBy ? [load.replaceBy.dateColumn, dateText] : [load.replaceBy.fileColumn, fileName];
    replace = { column, value };
    if (!names.includes(column)) {
      names.push(column);
      extra.push(value);
    }
  }
  return { target: { table: load.table, columns: names, mode: load.mode, key: load.key, replace }, extra };
}

/**
 * The file line of each loaded row, kept as the few places where lines stop following rows one
 * to one (the header, quoted line breaks, empty lines): a database error may name a row long
 * after it was sent (PostgreSQL COPY reports at its end), and a million-row file must not cost a
 * million numbers to say which line that was.
 */
export class RowLines {
  private readonly rows: number[] = [];
  private readonly lines: number[] = [];
  private count = 0;

  /** Note the line of the next row. */
  add(line: number): void {
    this.count++;
    const last = this.rows.length - 1;
    if (last < 0 || this.lines[last]! + (this.count - this.rows[last]!) !== line) {
      this.rows.push(this.count);
      this.lines.push(line);
    }
  }

  /** The line of row `row` (1-based), or undefined when no such row was noted. */
  lineOf(row: number): number | undefined {
    if (row < 1 || row > this.count) return undefined;
    let lo = 0;
    let hi = this.rows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.rows[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return this.lines[lo]! + (row - this.rows[lo]!);
  }
}

async function* withExtra(rows: AsyncIterable<DecodedRow>, extra: Value[], lines: RowLines): AsyncGenerator<Value[]> {
  for await (const r of rows) {
    lines.add(r.line);
    yield extra.length ? [...r.values, ...extra] : r.values;
  }
}

/** A value the target refused, as a problem of the file: its line and the file's column name. */
function refusedValue(e: RejectedRowError, lines: RowLines, columns: ImportColumn[]): FileProblem {
  const line = e.row !== undefined ? lines.lineOf(e.row) : undefined;
  const column = e.column === undefined ? undefined : (columns.find((c) => c.target === e.column)?.key ?? e.column);
  return { ...(line !== undefined ? { line } : {}), ...(column !== undefined ? { column } : {}), message: e.detail };
}

async function* asObjects(rows: AsyncIterable<DecodedRow>, columns: ImportColumn[], counter: { n: number }): AsyncGenerator<Record<string, unknown>> {
  for await (const r of rows) {
    counter.n++;
    const o: Record<string, unknown> = {};
    columns.forEach((c, i) => (o[c.target] = r.values[i]));
    yield o;
  }
}

/** Whole-file checks that need every row: counts and the trailer. */
function fileChecks(job: LoadedImportJob, summary: DecodeSummary): FileProblem[] {
  const problems: FileProblem[] = [];
  const checks = job.def.checks ?? {};
  if (checks.minRows !== undefined && summary.rows < checks.minRows) problems.push({ message: `the file has ${summary.rows} rows; at least ${checks.minRows} expected` });
  if (checks.maxRows !== undefined && summary.rows > checks.maxRows) problems.push({ message: `the file has ${summary.rows} rows; at most ${checks.maxRows} allowed` });
  if (job.def.format.trailer) problems.push(...checkTrailer(job.def.format.trailer, summary.trailer, { rows: summary.rows, sums: summary.sums ?? new Map() }));
  return problems;
}

/** Decode, validate and load one file in one transaction. Throws RejectedFileError when invalid. */
async function load(session: Session, job: LoadedImportJob, db: SourceDatabase, file: ReceivedFile, opts: ReceiveOptions): Promise<number> {
  const columns = importColumns(job);
  const dateText = opts.date.toFormat('yyyy-MM-dd');
  const decodeOpts = { format: job.def.format, columns, timezone: session.timezone, fileName: file.name };
  const marker = { job: job.name, sha256: file.sha256, fileName: file.name, businessDate: dateText };
  return db.ingest(
    marker,
    async (tx) => {
      const summary: DecodeSummary = { rows: 0 };
      const rows = decodeFile(createReadStream(file.localPath, { highWaterMark: 1 << 20 }), decodeOpts, summary);
      let n: number;
      if (job.def.load) {
        const { target, extra } = loadTarget(job, columns, dateText, file.name);
        const lines = new RowLines();
        try {
          n = await tx.load(target, withExtra(rows, extra, lines));
        } catch (e) {
          if (e instanceof RejectedRowError) throw new RejectedFileError(file.name, [refusedValue(e, lines, columns)], { cause: e });
          throw e;
        }
      } else {
        const counter = { n: 0 };
        const objects = asObjects(rows, columns, counter);
        const w = dayWindow(opts.date);
        await userCode(job, 'ingest.run', () => job.def.ingest!.run(objects, tx.knex, {
          job: job.name,
          date: w.date,
          from: w.from,
          to: w.to,
          timezone: session.timezone,
          fileName: file.name,
          sha256: file.sha256,
        }));
        // Whatever the function did not read is still validated: a bad last line rejects the file.
        for await (const _ of objects) void _;
        n = counter.n;
      }
      const problems = fileChecks(job, summary);
      if (problems.length) throw new RejectedFileError(file.name, problems);
      crashPoint('ingest-before-commit');
      return n;
    },
    { timezone: session.timezone, replaceMarker: opts.force },
  );
}

/** Write `<file>.error.json` atomically: why a file was rejected, for the operator. */
export async function writeErrorReport(path: string, report: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path, Readable.from([Buffer.from(JSON.stringify(report, null, 2) + '\n')]));
}

/**
 * Process one received local file to its end state. Never throws for a bad file (that is a
 * 'rejected' report); throws only when the run itself fails (database down, disk).
 */
export async function receiveFile(session: Session, job: LoadedImportJob, file: ReceivedFile, opts: ReceiveOptions): Promise<ReceivedReport> {
  const state = await session.state();
  const log = opts.log.child({ file: file.name });
  const dateText = opts.date.toFormat('yyyy-MM-dd');
  const inbox: InboxRecord = await state.recordInboxFile({
    attemptId: opts.attemptId,
    job: job.name,
    businessDate: dateText,
    connection: file.connection,
    remotePath: file.remotePath,
    name: file.name,
    size: file.size,
    mtime: file.mtime,
    sha256: file.sha256,
    late: file.late,
    localPath: relative(session.project.dir, file.localPath),
  });
  crashPoint('receive-after-record');
  const base = { name: file.name, bytes: file.size, sha256: file.sha256, late: file.late };
  const archiveDir = workPath(session, 'archive', job.name, opts.date.toFormat('yyyy'), opts.date.toFormat('MM'));
  const db = await session.database(targetConnection(job));

  if (!opts.force) {
    const seen = await db.ingestedFile(job.name, file.sha256);
    if (seen) {
      const to = await moveInto(file.localPath, archiveDir, file.name, opts.attemptId);
      const rel = relative(session.project.dir, to);
      await state.updateInboxFile(inbox.id, { status: 'duplicate', rows: 0, localPath: rel, error: null });
      log.warn({ sha256: file.sha256, first: seen.fileName, firstDate: seen.businessDate }, 'already ingested (same sha256); not ingested again');
      return { ...base, outcome: 'duplicate', rows: 0, localPath: rel };
    }
  }

  try {
    return await receiveRecorded(session, job, file, opts, db, inbox, archiveDir, base);
  } catch (e) {
    // The run fails (database down, disk): the partner still has the file and the next run
    // downloads it again, so the local copy must not stay behind to pile up run after run.
    await discard(file.localPath);
    await state.updateInboxFile(inbox.id, { status: 'received', localPath: null }).catch(() => undefined);
    throw e;
  }
}

/** {@link receiveFile} after the inbox record and the duplicate check. */
async function receiveRecorded(
  session: Session,
  job: LoadedImportJob,
  file: ReceivedFile,
  opts: ReceiveOptions,
  db: SourceDatabase,
  inbox: InboxRecord,
  archiveDir: string,
  base: Pick<ReceivedReport, 'name' | 'bytes' | 'sha256' | 'late'>,
): Promise<ReceivedReport> {
  const state = await session.state();
  const log = opts.log.child({ file: file.name });
  const dateText = opts.date.toFormat('yyyy-MM-dd');
  try {
    if (file.preProblems?.length) throw new RejectedFileError(file.name, file.preProblems);
    const rows = await load(session, job, db, file, opts);
    crashPoint('ingest-after-commit');
    const to = await moveInto(file.localPath, archiveDir, file.name, opts.attemptId);
    const rel = relative(session.project.dir, to);
    await state.updateInboxFile(inbox.id, { status: 'ingested', rows, localPath: rel, error: null });
    log.info({ rows, sha256: file.sha256, late: file.late || undefined }, 'ingested');
    return { ...base, outcome: 'ingested', rows, localPath: rel };
  } catch (e) {
    if (e instanceof DuplicateIngestError) {
      const to = await moveInto(file.localPath, archiveDir, file.name, opts.attemptId);
      const rel = relative(session.project.dir, to);
      await state.updateInboxFile(inbox.id, { status: 'duplicate', rows: 0, localPath: rel });
      log.warn('another run ingested the same file at the same moment; not ingested again');
      return { ...base, outcome: 'duplicate', rows: 0, localPath: rel };
    }
    if (!(e instanceof RejectedFileError)) throw e;
    const errorDir = workPath(session, 'error', job.name);
    const to = await moveInto(file.localPath, errorDir, file.name, opts.attemptId);
    const rel = relative(session.project.dir, to);
    await writeErrorReport(`${to}.error.json`, {
      job: job.name,
      businessDate: dateText,
      file: file.name,
      from: file.connection ? `${file.connection}:${file.remotePath}` : file.remotePath,
      size: file.size,
      sha256: file.sha256,
      rejectedAt: new Date().toISOString(),
      reason: e.message,
      problems: e.problems,
    });
    await state.updateInboxFile(inbox.id, { status: 'rejected', rows: 0, error: e.message, localPath: rel });
    log.error({ problems: e.problems.slice(0, 5), errorFile: `${rel}.error.json` }, 'file rejected; nothing written');
    return { ...base, outcome: 'rejected', rows: 0, localPath: rel, error: e.message, problems: e.problems };
  }
}

/** Remove an inbox temp file, ignoring errors (used when a download is abandoned). */
export async function discard(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

/** The inbox folder of one instance (see inbox-sweep.ts for why one per business date). */
export function inboxDir(session: Session, job: string, businessDate: string): string {
  return workPath(session, 'inbox', job, businessDate);
}
