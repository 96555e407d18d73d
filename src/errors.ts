/**
 * Typed errors. Each carries a stable `code` and the process exit code of SPEC §6; the CLI maps
 * them to the exit status in one place (src/cli/main.ts). A FerryError is a user-facing problem
 * and prints as a message; anything else is a bug and prints with its stack (exit 70).
 */

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  missing: 3,
  rejected: 4,
  internal: 70,
  busy: 75,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class FerryError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: ExitCodeValue;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags or arguments on the command line. */
export class UsageError extends FerryError {
  readonly code = 'usage';
  readonly exitCode = ExitCode.usage;
}

/** A problem in `ferry.config.ts` or a job file. `problems` lists every one found. */
export class ConfigError extends FerryError {
  readonly code = 'config';
  readonly exitCode = ExitCode.usage;
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.join('\n  ')}`, options);
  }
}

/** The source database failed (connection, query). */
export class DatabaseError extends FerryError {
  readonly code = 'database';
  readonly exitCode = ExitCode.failed;
}

/** Writing the file failed, including values the format cannot represent. */
export class FormatError extends FerryError {
  readonly code = 'format';
  readonly exitCode = ExitCode.failed;
}

/** A delivery or fetch failed. `transient` errors are retried with backoff. */
export class TransferError extends FerryError {
  readonly code = 'transfer';
  readonly exitCode = ExitCode.failed;
  readonly transient: boolean;
  constructor(message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, options);
    this.transient = options?.transient ?? false;
  }
}

/** A download brought more than it may (`maxBytes`, or the size the listing gave): stopped, never retried. */
export class DownloadLimitError extends TransferError {
  constructor(
    message: string,
    readonly limit: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The delivery target already holds other bytes under the final name and `ifExists` is 'fail'. */
export class TargetExistsError extends FerryError {
  readonly code = 'target-exists';
  readonly exitCode = ExitCode.failed;
}

/** A job ran and failed for a reason of its own (e.g. `whenEmpty: 'fail'`, archive corrupted). */
export class JobFailedError extends FerryError {
  readonly code = 'job-failed';
  readonly exitCode = ExitCode.failed;
}

/** Another process ingested the same file (same job and sha256) at the same moment. */
export class DuplicateIngestError extends FerryError {
  readonly code = 'duplicate-ingest';
  readonly exitCode = ExitCode.ok;
}

/** The state store cannot be opened or migrated. */
export class StateError extends FerryError {
  readonly code = 'state';
  readonly exitCode = ExitCode.failed;
}

/** Another run holds the lease on this instance. */
export class BusyError extends FerryError {
  readonly code = 'busy';
  readonly exitCode = ExitCode.busy;
}

/** An expected file has not arrived by its deadline. */
export class MissingFileError extends FerryError {
  readonly code = 'missing';
  readonly exitCode = ExitCode.missing;
}

/**
 * The target database cannot hold a value of a load exactly (out of its column's range, more
 * digits than its precision, a NUL byte), found by ferry's check before sending it or reported by
 * the database as a data error. `row` counts the rows of the load (1-based), `column` is the
 * target column; the receive pipeline turns it into a {@link RejectedFileError} naming the file's
 * line and column. Nothing of the load is committed.
 */
export class RejectedRowError extends FerryError {
  readonly code = 'rejected-row';
  readonly exitCode = ExitCode.rejected;
  constructor(
    readonly row: number | undefined,
    readonly column: string | undefined,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${row !== undefined ? `row ${row}` : 'a row'}${column !== undefined ? `, column ${column}` : ''}: ${detail}`, options);
  }
}

/** One problem found in a received file: where (line, column) and what. */
export interface FileProblem {
  /** 1-based physical line in the file where the record starts (undefined for whole-file checks). */
  line?: number;
  /** Column name (header name or key). */
  column?: string;
  message: string;
}

/**
 * A received file failed validation or checks. `problems` lists the first ones found, each with
 * its line and column; the message names the file and the first problem.
 */
export class RejectedFileError extends FerryError {
  readonly code = 'rejected';
  readonly exitCode = ExitCode.rejected;
  constructor(
    readonly fileName: string,
    readonly problems: FileProblem[],
    options?: { cause?: unknown },
  ) {
    super(`${fileName}: ${problems.map(formatProblem).slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`, options);
  }
}

export function formatProblem(p: FileProblem): string {
  const where = [p.line !== undefined ? `line ${p.line}` : '', p.column !== undefined ? `column '${p.column}'` : ''].filter(Boolean).join(', ');
  return where ? `${where}: ${p.message}` : p.message;
}

export function isFerryError(e: unknown): e is FerryError {
  return e instanceof FerryError;
}

/** Render an unknown thrown value as one line, with its causes. */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 5; depth++) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': ');
}
