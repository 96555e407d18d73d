/**
 * ferry's public API for job authors. See `./types.ts` for the glossary.
 *
 * The `define*` helpers return their input unchanged: they exist for types and editor help.
 */
import type { EnvRef, ExportJob, FerryConfig, FileRef, ImportJob } from './types.js';

export type * from './types.js';

/** Declare the project configuration (`ferry.config.ts`). */
export function defineConfig(config: FerryConfig): FerryConfig {
  return config;
}

/** Declare an export job (`jobs/<name>.ts`). */
export function defineExport(job: ExportJob): ExportJob {
  return job;
}

/** Declare an import job (`jobs/<name>.ts`): fetch, check, ingest exactly once, archive. */
export function defineImport(job: ImportJob): ImportJob {
  return job;
}

/** A value taken from the environment variable `name` when the connection is opened. */
export function env(name: string): EnvRef {
  return { $secret: 'env', name };
}

/** The contents of a file (path relative to the project), read when the connection is opened. */
export function file(path: string | EnvRef): FileRef {
  return { $secret: 'file', path };
}
