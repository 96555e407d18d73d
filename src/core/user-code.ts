/** Calling functions that job authors wrote (params, custom ingest). */
import { isFerryError, JobFailedError } from '../errors.js';

/**
 * Run a job author's function. Its failure is the job's failure (exit 1, naming the job file),
 * not a bug in ferry; ferry's own errors (a rejected row read through `rows`) pass unchanged.
 */
export async function userCode<T>(job: { file: string }, what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isFerryError(e)) throw e;
    throw new JobFailedError(`${job.file}: ${what} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
