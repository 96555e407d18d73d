/**
 * Loading a user's project: `ferry.config.ts` and every `jobs/*.ts`, through jiti, then
 * validating all of it. Every problem found in any file is reported at once (ConfigError,
 * exit 2) before anything runs.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import { ConfigError } from '../errors.js';
import type { ConnectionConfig, ExportJob, FerryConfig, ImportJob, RetryConfig, Secret } from '../types.js';
import { describeLoadFailure } from './code-frame.js';
import { validateConfig } from './config-rules.js';
import { validateExportJob, validateImportJob } from './job-rules.js';
import { describeValue, isPlainObject, Problems } from './validate.js';

export const CONFIG_NAMES = ['ferry.config.ts', 'ferry.config.mts', 'ferry.config.js', 'ferry.config.mjs'];
const JOB_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface ResolvedConfig {
  timezone: string;
  /** Absolute path of the working folder. */
  workDir: string;
  state: Secret;
  connections: Record<string, ConnectionConfig>;
  maxAttempts: number;
  leaseSeconds: number;
  retry: Required<RetryConfig>;
}

interface LoadedJobBase {
  name: string;
  /** Path relative to the project folder, for messages (`jobs/orders.ts`). */
  file: string;
}
export interface LoadedExportJob extends LoadedJobBase {
  kind: 'export';
  def: ExportJob;
}
export interface LoadedImportJob extends LoadedJobBase {
  kind: 'import';
  def: ImportJob;
}
export type LoadedJob = LoadedExportJob | LoadedImportJob;

export interface Project {
  /** Folder that holds the config file; relative paths in the config resolve against it. */
  dir: string;
  configFile: string;
  config: ResolvedConfig;
  jobs: Map<string, LoadedJob>;
}

/** Where the package's own public API is, so `import … from 'ferry'` in user files is always this copy. */
function selfIndex(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', 'index.js');
}

/**
 * Folder for jiti's compiled copies of the config and job files, or false to compile every time.
 *
 * Compiling TypeScript loads babel, which costs ~20 MiB of RSS and ~0.1 s on every command; with
 * a cache babel is loaded only when a file changed. Files are still read on every run: jiti keys
 * each cache entry by the file's path and checks a hash of its current source, so an edited file
 * is compiled again and never served stale.
 *
 * jiti's own default falls back to a shared `<tmp>/jiti`, which another local user could create
 * first and fill with code that ferry would then run. So: the project's `node_modules/.cache/jiti`
 * when the project has node_modules (as trusted as the files themselves), otherwise a per-user
 * folder in the temp dir that must be a real directory owned by this user and writable by no one
 * else; anything else disables the cache rather than trusting it.
 */
function jitiCacheDir(dir: string): string | false {
  const modules = join(dir, 'node_modules');
  if (existsSync(modules)) return join(modules, '.cache', 'jiti');
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const cache = join(tmpdir(), `ferry-jiti-${uid ?? 'user'}`);
  try {
    mkdirSync(cache, { mode: 0o700, recursive: true });
    const st = lstatSync(cache);
    if (!st.isDirectory()) return false;
    if (uid !== undefined && (st.uid !== uid || (st.mode & 0o022) !== 0)) return false;
    return cache;
  } catch {
    return false;
  }
}

function makeJiti(dir: string) {
  return createJiti(join(dir, 'ferry.config.ts'), {
    alias: { ferry: selfIndex() },
    moduleCache: false,
    fsCache: jitiCacheDir(dir),
    interopDefault: true,
  });
}

export function findConfigFile(explicit: string | undefined, cwd: string): string {
  if (explicit) {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) throw new ConfigError([`--config: ${explicit} does not exist`]);
    return p;
  }
  for (const n of CONFIG_NAMES) {
    const p = join(cwd, n);
    if (existsSync(p)) return p;
  }
  throw new ConfigError([`no ferry.config.ts in ${cwd}; run ferry from your project folder or pass --config FILE`]);
}

async function importDefault(jiti: ReturnType<typeof createJiti>, file: string, shown: string, p: Problems): Promise<unknown> {
  try {
    const mod = await jiti.import<Record<string, unknown>>(file);
    if (!mod || typeof mod !== 'object' || !('default' in mod) || mod.default === undefined) {
      p.add('', 'has no default export; write `export default …`');
      return undefined;
    }
    return mod.default;
  } catch (e) {
    const failure = describeLoadFailure(e, file, shown);
    p.raw(failure.frame ? `${failure.headline}\n${indent(failure.frame)}` : failure.headline);
    return undefined;
  }
}

const indent = (text: string) => text.replace(/^/gm, '    ');

export interface LoadOptions {
  configFile?: string;
  cwd?: string;
}

export async function loadProject(opts: LoadOptions = {}): Promise<Project> {
  const cwd = opts.cwd ?? process.cwd();
  const configFile = findConfigFile(opts.configFile, cwd);
  const dir = dirname(configFile);
  const jiti = makeJiti(dir);
  const problems: string[] = [];

  const cfgName = relative(dir, configFile) || basename(configFile);
  const cp = new Problems(cfgName);
  const raw = await importDefault(jiti, configFile, cfgName, cp);
  let config: ResolvedConfig | undefined;
  if (raw !== undefined) {
    if (!isPlainObject(raw)) cp.add('', `the default export must be defineConfig({...}), got ${describeValue(raw)}`);
    else config = validateConfig(raw as FerryConfig, cp, dir);
  }
  problems.push(...cp.list);

  const jobs = new Map<string, LoadedJob>();
  const jobsDir = join(dir, 'jobs');
  const files = existsSync(jobsDir)
    ? readdirSync(jobsDir)
        .filter((f) => JOB_EXTENSIONS.includes(extname(f)) && !f.endsWith('.d.ts') && !f.startsWith('_') && !f.startsWith('.'))
        .sort()
    : [];
  for (const f of files) {
    const name = basename(f, extname(f));
    const shown = `jobs/${f}`;
    const jp = new Problems(shown);
    if (!JOB_NAME.test(name)) {
      jp.add('', `'${name}' is not a usable job name; use letters, digits, '.', '_' and '-'`);
      problems.push(...jp.list);
      continue;
    }
    if (jobs.has(name)) {
      jp.add('', `a job named '${name}' is already defined by ${jobs.get(name)!.file}`);
      problems.push(...jp.list);
      continue;
    }
    const def = await importDefault(jiti, join(jobsDir, f), shown, jp);
    if (def !== undefined && config) {
      if (!isPlainObject(def)) jp.add('', `the default export must be defineExport({...}) or defineImport({...}), got ${describeValue(def)}`);
      else if (def.kind === 'import' || (def.kind === undefined && 'fetch' in def)) {
        validateImportJob(def, jp, config);
        if (jp.empty) jobs.set(name, { name, file: shown, kind: 'import', def: def as unknown as ImportJob });
      } else {
        validateExportJob(def, jp, config);
        if (jp.empty) jobs.set(name, { name, file: shown, kind: 'export', def: def as unknown as ExportJob });
      }
    }
    problems.push(...jp.list);
  }
  if (problems.length > 0 || !config) throw new ConfigError(problems.length ? problems : [`${cfgName}: invalid`]);
  return { dir, configFile, config, jobs };
}

/** Look up jobs by name for a command; unknown names are a usage error listing the known ones. */
export function selectJobs(project: Project, names: string[]): LoadedJob[] {
  const unknown = names.filter((n) => !project.jobs.has(n));
  if (unknown.length) {
    const known = [...project.jobs.keys()].join(', ') || '(none)';
    throw new ConfigError(unknown.map((n) => `unknown job '${n}'; jobs in this project: ${known}`));
  }
  return (names.length ? names : [...project.jobs.keys()]).map((n) => project.jobs.get(n)!);
}

/** Every connection a job uses (source or fetch first, then destinations or target). */
export function jobConnections(job: LoadedJob): string[] {
  if (job.kind === 'export') return [job.def.source.connection, ...(job.def.deliver ?? []).map((d) => d.connection)];
  return [job.def.fetch.connection, job.def.load?.connection ?? job.def.ingest?.connection ?? ''].filter(Boolean);
}
