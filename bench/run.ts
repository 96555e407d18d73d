/**
 * `npm run bench`: how fast ferry exports compared with the databases' own CSV tools, how fast
 * its transports move a file compared with OpenSSH sftp and curl (bench/transfers.ts), how fast
 * it ingests a CSV compared with psql \copy and the sqlite3 shell (bench/ingest.ts), and how much
 * memory each needs. See BENCHMARKS.md for the method and the last recorded figures.
 *
 * One run:
 *   1. fills a PostgreSQL table (schema `ferry_bench`) and a SQLite file with the same ten mixed
 *      columns: 1,000,000 rows on one business day and 100,000 on the next;
 *   2. writes a temporary ferry project (timezone Asia/Seoul, a local delivery folder) with three
 *      csv jobs: PostgreSQL with the default config (COPY fast path), PostgreSQL with
 *      `fastPath: false` (rows through ferry's own encoder), SQLite;
 *   3. times every case under GNU time, several repetitions interleaved, and checks every
 *      produced file's line count (a run that wrote too little must not look fast);
 *   4. profiles the ferry runs once more with `node --cpu-prof` (not timed) to show where the time
 *      goes, then prints the results, the targets with PASS/FAIL and a markdown table.
 *
 * Targets (reported, not asserted): peak RSS < 150 MiB at 1,000,000 rows; ferry's time at most
 * 3× the native tool's (psql \copy, sqlite3 shell). The exit code is 0 unless something broke
 * (a command failed, a file had the wrong number of lines, a database was unreachable).
 *
 * Environment:
 *   FERRY_BENCH_PG_URL   PostgreSQL URL (default postgres://root@127.0.0.1:5432/test)
 *   FERRY_BENCH_REPEAT   repetitions per case, median reported (default 3)
 *   FERRY_BENCH_ROWS     rows of the big day (default 1000000; the small day has a tenth)
 *   FERRY_BENCH_KEEP=1   keep the PostgreSQL table for the next run (it is reused when its data
 *                        version and row count match); by default it is dropped at the end
 *   FERRY_BENCH_PROFILE=0  skip the CPU profiles
 *   FERRY_BENCH_ONLY     parts to run, comma-separated: 'export', 'transfer', 'ingest', 'pg'
 *                        (PostgreSQL export and ingest), 'sqlite' (SQLite export and ingest);
 *                        the union of the named parts runs. Default: everything
 *   FERRY_BENCH_TRANSFER_MIB  size of the transfer test file (default 1024)
 *   FERRY_BENCH_INGEST_ROWS   rows of the ingest CSV (default FERRY_BENCH_ROWS, else 1000000)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCopySql } from '../src/database/pg-csv.js';
import type { ResolvedColumn } from '../src/formats/types.js';
import {
  dataset,
  dropPg,
  PG_JOB_SQL,
  PG_SOURCE_COLUMNS,
  pgLiteralSql,
  setupPg,
  setupSqlite,
  SQLITE_JOB_SQL,
  sqliteLiteralSql,
  ZONE,
  type Day,
} from './datasets.js';
import { runIngest } from './ingest.js';
import { checkGnuTime, fileFacts, median, Timer, type Timed } from './measure.js';
import type { PartContext } from './parts.js';
import { readProfileDir, summarizeProfile } from './profile.js';
import { fixed, grouped, markdownTable, mib, textTable, type Cell } from './report.js';
import { runTransfers } from './transfers.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const ferryBin = join(repoRoot, 'bin', 'ferry');

const PG_URL = process.env.FERRY_BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const REPEAT = positiveInt('FERRY_BENCH_REPEAT', 3);
const BIG_ROWS = positiveInt('FERRY_BENCH_ROWS', 1_000_000);
const KEEP = process.env.FERRY_BENCH_KEEP === '1';
const PROFILE = process.env.FERRY_BENCH_PROFILE !== '0';
const PARTS = ['export', 'transfer', 'ingest', 'pg', 'sqlite'];
const ONLY = (process.env.FERRY_BENCH_ONLY ?? '')
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean);
for (const p of ONLY) {
  if (!PARTS.includes(p)) throw new Error(`FERRY_BENCH_ONLY: unknown part ${JSON.stringify(p)}; use ${PARTS.join(', ')} (comma-separated)`);
}
const only = (...parts: string[]) => ONLY.length === 0 || parts.some((p) => ONLY.includes(p));
/** Which parts run: the union of what FERRY_BENCH_ONLY names. */
const RUN = {
  exportPg: only('export', 'pg'),
  exportSqlite: only('export', 'sqlite'),
  transfer: only('transfer'),
  ingestPg: only('ingest', 'pg'),
  ingestSqlite: only('ingest', 'sqlite'),
};
/** No single case should come near this; it only stops a hung export from hanging the bench. */
const TIMEOUT_SECONDS = 600;

const RSS_TARGET_MIB = 150;
const TIME_TARGET_RATIO = 3;
const TARGET_ROWS = 1_000_000;

function positiveInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** The URL without its password, for printing. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

const ds = dataset(BIG_ROWS);
const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
const project = join(dir, 'project');
const nativeDir = join(dir, 'native');
const scratch = join(dir, 'scratch');
for (const d of [project, nativeDir, scratch, join(project, 'jobs'), join(project, 'data')]) mkdirSync(d, { recursive: true });
const timer = new Timer(scratch);

// ---------------------------------------------------------------------------------------------
// The ferry project

function writeProject(): void {
  writeFileSync(
    join(project, 'ferry.config.ts'),
    `// Written by bench/run.ts for one benchmark run; removed afterwards.
// The PostgreSQL URL comes from the environment so a password never lands in a file.
import { defineConfig, env } from 'ferry';
export default defineConfig({
  timezone: ${JSON.stringify(ZONE)},
  connections: {
    pg: { type: 'database', client: 'pg', connection: env('FERRY_BENCH_PG_URL') },
    lite: { type: 'database', client: 'sqlite', connection: 'data/bench.sqlite' },
    out: { type: 'local', root: 'out' },
  },
});
`,
  );
  const job = (connection: string, sql: string, extra = '') => `import { defineExport } from 'ferry';
export default defineExport({
  source: { connection: ${JSON.stringify(connection)}, sql: ${JSON.stringify(sql)}${extra} },
  format: { type: 'csv' },
  file: { name: '{job}_{date:yyyyMMdd}.csv' },
  deliver: [{ connection: 'out' }],
});
`;
  writeFileSync(join(project, 'jobs', 'pg-default.ts'), job('pg', PG_JOB_SQL));
  writeFileSync(join(project, 'jobs', 'pg-general.ts'), job('pg', PG_JOB_SQL, ', fastPath: false'));
  writeFileSync(join(project, 'jobs', 'sqlite.ts'), job('lite', SQLITE_JOB_SQL));
  clearOutputs();
}

/**
 * Empty the archive and the delivery folder before each run so every run does the same work (a
 * first delivery, not "already there"). The delivery folder itself stays, like a partner's inbox:
 * whether ferry creates a missing one depends on the delivery's `mkdir`, which is not measured here.
 */
function clearOutputs(): void {
  rmSync(join(project, 'out'), { recursive: true, force: true });
  mkdirSync(join(project, 'out'));
  rmSync(join(project, 'var', 'archive'), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Cases

type Db = 'PostgreSQL' | 'SQLite' | 'ferry' | 'disk';
type Kind = 'native' | 'ferry' | 'diagnostic';

interface Sample {
  seconds: number;
  rssKiB: number;
  sha256?: string;
  notes: string[];
  /** Seconds per phase of a ferry run, from its own log timestamps (see ferryPhases). */
  phases?: Phases;
}

const PHASES = ['start-up', 'produce', 'deliver', 'finish'] as const;
type Phases = Record<(typeof PHASES)[number], number>;

/**
 * Split a ferry run at its info log lines (JSON on stderr when not a terminal): start-up = process
 * start to "producing file" (loading config and jobs, state store, lease); produce = query, encode
 * or COPY, archive write with fsync; deliver = copy to the partner folder with fsync and rename;
 * finish = closing the attempt, pools and the process. Undefined when a line is missing (log
 * wording changed), so the table simply leaves the run out.
 */
function ferryPhases(t: Timed): Phases | undefined {
  const at = new Map<string, number>();
  for (const line of t.stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const rec = JSON.parse(line) as { msg?: string; time?: number };
      if (rec.msg && typeof rec.time === 'number' && !at.has(rec.msg)) at.set(rec.msg, rec.time);
    } catch {
      // Not a log record.
    }
  }
  const producing = at.get('producing file');
  const archived = at.get('file archived');
  const delivered = at.get('delivered');
  if (producing === undefined || archived === undefined || delivered === undefined) return undefined;
  return {
    'start-up': (producing - t.startedMs) / 1000,
    produce: (archived - producing) / 1000,
    deliver: (delivered - archived) / 1000,
    finish: (t.endedMs - delivered) / 1000,
  };
}

interface CaseDef {
  id: string;
  db: Db;
  kind: Kind;
  label: string;
  rows?: number;
  /** The native case this one's time is divided by. */
  baseline?: string;
  /** Whether the ≤ 3× time target applies (ferry with its default configuration). */
  timeTarget?: boolean;
  run: () => Promise<Sample>;
}

function failure(what: string, t: Timed): Error {
  const tail = t.stderr.trim().split('\n').slice(-15).join('\n');
  return new Error(`${what} exited with ${t.code}${tail ? `:\n${tail}` : ''}`);
}

/** Check a native tool's file: header + one line per row. Removes it unless `keep`. */
async function nativeSample(file: string, rows: number, t: Timed, keep = false): Promise<Sample> {
  const facts = await fileFacts(file);
  if (!keep) rmSync(file, { force: true });
  if (facts.lines !== rows + 1) throw new Error(`${file} has ${facts.lines} lines, expected ${rows + 1} (header + rows)`);
  return { seconds: t.seconds, rssKiB: t.peakRssKiB, sha256: facts.sha256, notes: [] };
}

const ferryEnv = { ...process.env, FERRY_BENCH_PG_URL: PG_URL };
// PGTZ makes psql's session zone the config zone, like ferry's session: same day bounds, same
// timestamp text.
const psqlEnv = { ...process.env, PGTZ: ZONE };
const psqlArgs = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', PG_URL];

async function psqlCopy(day: Day): Promise<Sample> {
  const file = join(nativeDir, `psql_${day.date}.csv`);
  const sql = `\\copy (${pgLiteralSql(day)}) to '${file.replace(/'/g, "''")}' csv header`;
  const t = await timer.run('psql', [...psqlArgs, '-c', sql], { env: psqlEnv, timeoutSeconds: TIMEOUT_SECONDS });
  if (t.code !== 0) throw failure('psql \\copy', t);
  return nativeSample(file, day.rows, t);
}

/**
 * The statement ferry's fast path sends, run by psql: separates the server's cost of rendering
 * every cell as ferry's canonical text (to_char for dates and timestamps…) from ferry's own.
 * The columns are what ferry's pg adapter reports for this table; the bench checks below that
 * this file is byte-identical to ferry's, so it is the same work.
 */
async function psqlFerrySql(day: Day): Promise<Sample> {
  const file = join(nativeDir, `psql_ferrysql_${day.date}.csv`);
  const columns: ResolvedColumn[] = PG_SOURCE_COLUMNS.map((c, index) => ({ source: c.name, key: c.name, index, type: c.type }));
  const sql = buildCopySql(pgLiteralSql(day), { columns, delimiter: ',', header: true, timezone: ZONE });
  const t = await timer.run('psql', [...psqlArgs, '-c', sql], { env: psqlEnv, stdoutFile: file, timeoutSeconds: TIMEOUT_SECONDS });
  if (t.code !== 0) throw failure('psql COPY with ferry\'s select list', t);
  return nativeSample(file, day.rows, t);
}

/** Kept by the sqlite3 case of the big day for the disk case, which removes it. */
const diskSource = join(nativeDir, 'sqlite3_big.csv');

async function sqlite3Csv(day: Day, keepForDisk: boolean): Promise<Sample> {
  const file = keepForDisk ? diskSource : join(nativeDir, `sqlite3_${day.date}.csv`);
  const t = await timer.run('sqlite3', ['-header', '-csv', join(project, 'data', 'bench.sqlite'), sqliteLiteralSql(day)], {
    stdoutFile: file,
    timeoutSeconds: TIMEOUT_SECONDS,
  });
  if (t.code !== 0) throw failure('sqlite3', t);
  return nativeSample(file, day.rows, t, keepForDisk);
}

/** Copy a 1M-row file with fsync: the price of one durable write, which ferry pays twice. */
async function ddFsync(): Promise<Sample> {
  const target = join(nativeDir, 'dd_copy.csv');
  try {
    const t = await timer.run('dd', [`if=${diskSource}`, `of=${target}`, 'bs=1M', 'conv=fsync', 'status=none'], { timeoutSeconds: TIMEOUT_SECONDS });
    if (t.code !== 0) throw failure('dd', t);
    return await nativeSample(target, ds.big.rows, t);
  } finally {
    rmSync(diskSource, { force: true });
    rmSync(target, { force: true });
  }
}

interface FerryResult {
  outcome?: string;
  rows?: number;
  file?: string;
  sha256?: string;
  fastPath?: boolean;
  error?: string;
}

async function ferryRun(job: string, day: Day, expectFastPath: boolean): Promise<Sample> {
  clearOutputs();
  // JSON logs on stderr give the phase split; --force because every repetition redoes the day.
  const args = [ferryBin, '--json', '--log-format', 'json', 'run', job, '--date', day.date, '--force'];
  const t = await timer.run(process.execPath, args, { cwd: project, env: ferryEnv, timeoutSeconds: TIMEOUT_SECONDS });
  const what = `bin/ferry run ${job} --date ${day.date} --force`;
  let r: FerryResult | undefined;
  try {
    r = (JSON.parse(t.stdout) as { results?: FerryResult[] }).results?.[0];
  } catch {
    // No JSON: the failure below shows stderr.
  }
  if (t.code !== 0 || !r || r.outcome !== 'sent') {
    const err = failure(what, t);
    if (r?.error) err.message += `\nresult error: ${r.error}`;
    throw err;
  }
  if (r.rows !== day.rows) throw new Error(`${what} reported ${r.rows} rows, expected ${day.rows}`);
  const facts = await fileFacts(join(project, 'out', r.file ?? '?'));
  clearOutputs();
  if (facts.lines !== day.rows + 1) throw new Error(`${what}: delivered file has ${facts.lines} lines, expected ${day.rows + 1}`);
  const notes: string[] = [];
  if (facts.sha256 !== r.sha256) notes.push(`delivered file's sha256 ${facts.sha256} differs from the recorded ${r.sha256}`);
  if (r.fastPath !== expectFastPath) notes.push(`fastPath was ${String(r.fastPath)}, expected ${expectFastPath}`);
  return { seconds: t.seconds, rssKiB: t.peakRssKiB, sha256: facts.sha256, notes, phases: ferryPhases(t) };
}

async function ferryList(): Promise<Sample> {
  const t = await timer.run(process.execPath, [ferryBin, 'list'], { cwd: project, env: ferryEnv, timeoutSeconds: TIMEOUT_SECONDS });
  if (t.code !== 0) throw failure('bin/ferry list', t);
  return { seconds: t.seconds, rssKiB: t.peakRssKiB, notes: [] };
}

const big = ds.big;
const small = ds.small;
const k = (n: number) => (n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1000 === 0 ? `${n / 1000}k` : String(n));

function pgCases(): CaseDef[] {
  return [
    { id: 'pg-psql-big', db: 'PostgreSQL', kind: 'native', label: 'psql \\copy (query) to file', rows: big.rows, run: () => psqlCopy(big) },
    { id: 'pg-default-big', db: 'PostgreSQL', kind: 'ferry', label: 'ferry run, default (COPY fast path)', rows: big.rows, baseline: 'pg-psql-big', timeTarget: true, run: () => ferryRun('pg-default', big, true) },
    { id: 'pg-general-big', db: 'PostgreSQL', kind: 'ferry', label: 'ferry run, fastPath: false (row encoder)', rows: big.rows, baseline: 'pg-psql-big', run: () => ferryRun('pg-general', big, false) },
    { id: 'pg-ferrysql-big', db: 'PostgreSQL', kind: 'diagnostic', label: "psql COPY with ferry's select list", rows: big.rows, baseline: 'pg-psql-big', run: () => psqlFerrySql(big) },
    { id: 'pg-psql-small', db: 'PostgreSQL', kind: 'native', label: 'psql \\copy (query) to file', rows: small.rows, run: () => psqlCopy(small) },
    { id: 'pg-default-small', db: 'PostgreSQL', kind: 'ferry', label: 'ferry run, default (COPY fast path)', rows: small.rows, baseline: 'pg-psql-small', run: () => ferryRun('pg-default', small, true) },
    { id: 'pg-general-small', db: 'PostgreSQL', kind: 'ferry', label: 'ferry run, fastPath: false (row encoder)', rows: small.rows, baseline: 'pg-psql-small', run: () => ferryRun('pg-general', small, false) },
  ];
}

function sqliteCases(): CaseDef[] {
  return [
    { id: 'sqlite-native-big', db: 'SQLite', kind: 'native', label: 'sqlite3 -header -csv db "query" > file', rows: big.rows, run: () => sqlite3Csv(big, true) },
    { id: 'disk-dd', db: 'disk', kind: 'diagnostic', label: `dd copy of the ${k(big.rows)}-row file + fsync`, run: ddFsync },
    { id: 'sqlite-ferry-big', db: 'SQLite', kind: 'ferry', label: 'ferry run (row encoder; SQLite has no fast path)', rows: big.rows, baseline: 'sqlite-native-big', timeTarget: true, run: () => ferryRun('sqlite', big, false) },
    { id: 'sqlite-native-small', db: 'SQLite', kind: 'native', label: 'sqlite3 -header -csv db "query" > file', rows: small.rows, run: () => sqlite3Csv(small, false) },
    { id: 'sqlite-ferry-small', db: 'SQLite', kind: 'ferry', label: 'ferry run (row encoder; SQLite has no fast path)', rows: small.rows, baseline: 'sqlite-native-small', run: () => ferryRun('sqlite', small, false) },
  ];
}

const LIST_CASE: CaseDef = { id: 'ferry-list', db: 'ferry', kind: 'diagnostic', label: 'bin/ferry list (start-up: load config + jobs)', run: ferryList };

// ---------------------------------------------------------------------------------------------
// Main

interface Outcome {
  def: CaseDef;
  samples: Sample[];
  errors: string[];
}

const problems: string[] = [];
const out = (line = '') => process.stdout.write(line + '\n');

/** Stoppers of what the transfer and ingest parts started (servers); run by cleanup(). */
const partCleanups: Array<() => Promise<void>> = [];
/** Whether the export part touched PostgreSQL (then cleanup drops its schema). */
let exportPgUsed = false;

async function main(): Promise<void> {
  checkGnuTime();
  const started = Date.now();
  const load0 = loadavg();
  out(`ferry benchmark — ${new Date().toISOString()}`);
  out(`machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`);
  out(`parts: ${Object.entries(RUN).filter(([, v]) => v).map(([k]) => k).join(', ')}`);
  out(`temp folder: ${dir}`);
  if (RUN.exportPg || RUN.exportSqlite) await runExport();

  const ctx: PartContext = { timer, dir, repoRoot, repeat: REPEAT, profile: PROFILE, out, cleanups: partCleanups };
  // Each part reports its own failures; a crash of one part must not skip the next.
  const part = async (name: string, fn: () => Promise<string[]>) => {
    try {
      problems.push(...(await fn()));
    } catch (e) {
      problems.push(`the ${name} part crashed: ${(e as Error).stack ?? String(e)}`);
      out(problems[problems.length - 1]);
    }
  };
  if (RUN.transfer) await part('transfer', () => runTransfers(ctx));
  if (RUN.ingestPg || RUN.ingestSqlite) {
    await part('ingest', () => runIngest(ctx, { pgUrl: PG_URL, pg: RUN.ingestPg, sqlite: RUN.ingestSqlite, ferryBin }));
  }

  const load1 = loadavg();
  out();
  out(`load average (1 min) at start ${load0[0]!.toFixed(2)}, at end ${load1[0]!.toFixed(2)}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** The export part: ferry run vs psql \copy and the sqlite3 shell. */
async function runExport(): Promise<void> {
  out();
  out(`== Export: ${grouped(big.rows)} rows on ${big.date}, ${grouped(small.rows)} on ${small.date} (zone ${ZONE}); ${REPEAT} repetitions, median time, max RSS ==`);
  writeProject();

  const cases: CaseDef[] = [];
  let pgReady = false;
  if (RUN.exportPg) {
    exportPgUsed = true;
    try {
      const s = await setupPg(PG_URL, ds);
      pgReady = true;
      out(`PostgreSQL ${s.server} at ${shownUrl(PG_URL)}: table ${s.reused ? 'reused' : 'created'} in ${s.seconds.toFixed(1)} s`);
      cases.push(...pgCases());
    } catch (e) {
      problems.push(`PostgreSQL section skipped: cannot set up the data at ${shownUrl(PG_URL)}: ${(e as Error).message}`);
      out(problems[problems.length - 1]);
    }
  }
  if (RUN.exportSqlite) {
    const s = setupSqlite(join(project, 'data', 'bench.sqlite'), ds);
    out(`SQLite ${s.version} (sqlite3 shell): file created in ${s.seconds.toFixed(1)} s`);
    cases.push(...sqliteCases());
  }
  cases.push(LIST_CASE);

  const outcomes = new Map<string, Outcome>(cases.map((c) => [c.id, { def: c, samples: [], errors: [] }]));
  out();
  // Repetitions are interleaved (every case once, then again) so a slow phase of the machine
  // (other jobs on 2 cores) spreads over all cases instead of hitting one.
  for (let rep = 1; rep <= REPEAT; rep++) {
    for (const c of cases) {
      const o = outcomes.get(c.id)!;
      try {
        const s = await c.run();
        o.samples.push(s);
        out(`[${rep}/${REPEAT}] ${c.id.padEnd(20)} ${s.seconds.toFixed(2).padStart(6)} s ${mib(s.rssKiB).padStart(5)} MiB${s.notes.length ? `  NOTE: ${s.notes.join('; ')}` : ''}`);
      } catch (e) {
        const msg = (e as Error).message;
        // The whole message once per case; repeats get its first line only.
        out(`[${rep}/${REPEAT}] ${c.id.padEnd(20)} FAILED: ${o.errors.length ? msg.split('\n')[0] : msg}`);
        o.errors.push(msg);
      }
    }
  }

  const profiles = PROFILE ? runProfiles(pgReady) : [];
  report(outcomes, profiles);
}

// ---------------------------------------------------------------------------------------------
// Profiles

interface ProfileRun {
  title: string;
  text: string[];
}

/**
 * One more run of each big ferry case under `node --cpu-prof` (not timed: the profiler slows it).
 * The summary lists self time, so "(idle)" is the main thread waiting (for the database, the
 * disk), and "(garbage collector)" is the cost of the objects built per row.
 */
function runProfiles(pgReady: boolean): ProfileRun[] {
  const jobs = [...(pgReady ? ['pg-default', 'pg-general'] : []), ...(RUN.exportSqlite ? ['sqlite'] : [])];
  const runs: ProfileRun[] = [];
  for (const job of jobs) {
    clearOutputs();
    const profDir = join(dir, `profile-${job}`);
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ferryBin, '--json', 'run', job, '--date', big.date, '--force'], {
      cwd: project,
      env: ferryEnv,
      encoding: 'utf8',
      timeout: TIMEOUT_SECONDS * 1000,
      maxBuffer: 64 << 20,
    });
    clearOutputs();
    const title = `CPU profile: bin/ferry run ${job} --date ${big.date} (${grouped(big.rows)} rows)`;
    if (r.status !== 0) {
      runs.push({ title, text: [`profiled run failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`] });
      continue;
    }
    try {
      const s = summarizeProfile(readProfileDir(profDir), 12);
      const text = [`sampled ${(s.totalMs / 1000).toFixed(1)} s of the main thread; self time by area:`];
      text.push(...textTable(['area', 'ms', '%'], s.areas.map((a) => [a.name, a.ms.toFixed(0), a.pct.toFixed(1)])).map((l) => `  ${l}`));
      text.push('top functions by self time:');
      text.push(...textTable(['function  where', 'ms', '%'], s.functions.map((f) => [f.name, f.ms.toFixed(0), f.pct.toFixed(1)])).map((l) => `  ${l}`));
      runs.push({ title, text });
    } catch (e) {
      runs.push({ title, text: [`cannot read the profile: ${(e as Error).message}`] });
    }
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------
// Report

interface Summary {
  o: Outcome;
  seconds?: number;
  min?: number;
  max?: number;
  rssKiB?: number;
  ratio?: number;
  net?: number;
}

function report(outcomes: Map<string, Outcome>, profiles: ProfileRun[]): void {
  const sum = new Map<string, Summary>();
  for (const [id, o] of outcomes) {
    const secs = o.samples.map((s) => s.seconds);
    sum.set(id, {
      o,
      seconds: secs.length ? median(secs) : undefined,
      min: secs.length ? Math.min(...secs) : undefined,
      max: secs.length ? Math.max(...secs) : undefined,
      rssKiB: o.samples.length ? Math.max(...o.samples.map((s) => s.rssKiB)) : undefined,
    });
  }
  const startup = sum.get('ferry-list')?.seconds;
  for (const s of sum.values()) {
    const base = s.o.def.baseline ? sum.get(s.o.def.baseline)?.seconds : undefined;
    if (s.seconds !== undefined && base) s.ratio = s.seconds / base;
    if (s.o.def.kind === 'ferry' && s.seconds !== undefined && startup !== undefined) s.net = s.seconds - startup;
  }

  const head = ['case', 'rows', 'seconds', 'min–max', 'rows/s', 'net s', 'net rows/s', 'peak RSS MiB', '× native'];
  const rows: Cell[][] = [];
  for (const s of sum.values()) {
    const d = s.o.def;
    const failed = s.o.samples.length === 0;
    rows.push([
      `${d.db === 'ferry' || d.db === 'disk' ? '' : d.db + ': '}${d.label}${failed ? ' (FAILED)' : ''}`,
      d.rows === undefined ? '—' : grouped(d.rows),
      fixed(s.seconds),
      s.min === undefined ? '—' : `${fixed(s.min)}–${fixed(s.max)}`,
      d.rows === undefined || !s.seconds ? '—' : grouped(d.rows / s.seconds),
      fixed(s.net),
      d.rows === undefined || !s.net || s.net <= 0 ? '—' : grouped(d.rows / s.net),
      mib(s.rssKiB),
      s.ratio === undefined ? (d.kind === 'native' ? '1.00' : '—') : fixed(s.ratio),
    ]);
  }

  out();
  out('Results (seconds: median wall time under GNU time incl. process start; net s = seconds − `ferry list` start-up;');
  out(' peak RSS: max over repetitions, of the measured process only — the database server is not included)');
  for (const l of textTable(head, rows)) out(l);

  // Where a ferry run spends its wall time.
  const phaseRows: Cell[][] = [];
  for (const s of sum.values()) {
    const ph = s.o.samples.flatMap((x) => (x.phases ? [x.phases] : []));
    if (s.o.def.kind !== 'ferry' || ph.length === 0) continue;
    phaseRows.push([`${s.o.def.db}: ${s.o.def.label}`, grouped(s.o.def.rows), ...PHASES.map((p) => fixed(median(ph.map((x) => x[p]))))]);
  }
  if (phaseRows.length) {
    out();
    out('ferry run phases (median seconds, from ferry\'s own log timestamps):');
    for (const l of textTable(['case', 'rows', ...PHASES], phaseRows)) out(l);
  }

  // Targets.
  out();
  out(`Targets (defined at ${grouped(TARGET_ROWS)} rows${big.rows === TARGET_ROWS ? '' : `; this run used ${grouped(big.rows)}, so they are only indicative`}):`);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const targetLines: string[] = [];
  for (const s of sum.values()) {
    const d = s.o.def;
    if (d.kind !== 'ferry' || d.rows !== big.rows) continue;
    const name = `${d.db}: ${d.label}`;
    if (s.rssKiB === undefined) targetLines.push(`FAIL  peak RSS < ${RSS_TARGET_MIB} MiB   ${name}: no successful run`);
    else targetLines.push(`${verdict(s.rssKiB / 1024 < RSS_TARGET_MIB)}  peak RSS < ${RSS_TARGET_MIB} MiB   ${name}: ${mib(s.rssKiB)} MiB`);
  }
  for (const s of sum.values()) {
    const d = s.o.def;
    if (d.kind !== 'ferry' || d.rows !== big.rows) continue;
    const base = outcomes.get(d.baseline ?? '')?.def.label ?? '?';
    const text = `time ≤ ${TIME_TARGET_RATIO}× native   ${d.db}: ${d.label} vs ${base}: ${s.ratio === undefined ? 'no ratio (a run failed)' : `${fixed(s.ratio)}×`}`;
    if (d.timeTarget) targetLines.push(`${s.ratio === undefined ? 'FAIL' : verdict(s.ratio <= TIME_TARGET_RATIO)}  ${text}`);
    else targetLines.push(`info  ${text} (not a target: the general path is shown to see where time goes)`);
  }
  for (const l of targetLines) out(`  ${l}`);

  // Checks that make the numbers trustworthy, and anything odd.
  out();
  out('Checks:');
  const runs = [...outcomes.values()].reduce((n, o) => n + o.samples.length, 0);
  out(`  ${runs} timed runs succeeded; every produced file had header + one line per row`);
  const growth = (a: string, b: string, name: string) => {
    const x = sum.get(a)?.rssKiB;
    const y = sum.get(b)?.rssKiB;
    if (x !== undefined && y !== undefined) out(`  peak RSS ${name}: ${mib(x)} MiB at ${grouped(small.rows)} rows → ${mib(y)} MiB at ${grouped(big.rows)} rows (${y >= x ? '+' : ''}${mib(y - x)} MiB)`);
  };
  growth('pg-default-small', 'pg-default-big', 'PostgreSQL fast path');
  growth('pg-general-small', 'pg-general-big', 'PostgreSQL general path');
  growth('sqlite-ferry-small', 'sqlite-ferry-big', 'SQLite');
  const shaOf = (id: string) => {
    const set = new Set(outcomes.get(id)?.samples.map((s) => s.sha256));
    return set.size === 1 ? [...set][0] : set.size > 1 ? 'varies' : undefined;
  };
  for (const size of ['big', 'small'] as const) {
    const fast = shaOf(`pg-default-${size}`);
    const general = shaOf(`pg-general-${size}`);
    if (fast && general) {
      const same = fast === general && fast !== 'varies';
      out(`  PostgreSQL ${size} day: fast path and general path files are ${same ? 'byte-identical' : 'DIFFERENT (they must be equal)'}`);
      if (!same) problems.push(`PostgreSQL ${size} day: the fast path and the general path wrote different files`);
    }
  }
  const ferrySql = shaOf('pg-ferrysql-big');
  const fastBig = shaOf('pg-default-big');
  if (ferrySql && fastBig) {
    out(`  psql with ferry's COPY statement ${ferrySql === fastBig ? 'wrote the same bytes as ferry (same work on the server)' : 'wrote different bytes than ferry: that diagnostic row is not comparable'}`);
  }
  for (const o of outcomes.values()) {
    const notes = new Set(o.samples.flatMap((s) => s.notes));
    for (const n of notes) out(`  NOTE ${o.def.id}: ${n}`);
    if (o.errors.length) {
      out(`  FAILED ${o.def.id} in ${o.errors.length} of ${REPEAT} runs; first error: ${o.errors[0]!.split('\n')[0]}`);
      problems.push(`${o.def.id} failed in ${o.errors.length} of ${REPEAT} runs (the error is shown above)`);
    }
  }

  for (const p of profiles) {
    out();
    out(p.title);
    for (const l of p.text) out(`  ${l}`);
  }

  out();
  out('Markdown (for BENCHMARKS.md):');
  out();
  const mdHead = ['case', 'rows', 'seconds', 'rows/s', 'net s', 'peak RSS MiB', '× native'];
  const mdRows = [...sum.values()].map((s) => {
    const d = s.o.def;
    return [
      `${d.db === 'ferry' || d.db === 'disk' ? '' : d.db + ': '}${d.label}`,
      d.rows === undefined ? '—' : grouped(d.rows),
      fixed(s.seconds),
      d.rows === undefined || !s.seconds ? '—' : grouped(d.rows / s.seconds),
      fixed(s.net),
      mib(s.rssKiB),
      s.ratio === undefined ? (d.kind === 'native' ? '1.00' : '—') : fixed(s.ratio),
    ];
  });
  for (const l of markdownTable(mdHead, mdRows)) out(l);
  if (phaseRows.length) {
    out();
    for (const l of markdownTable(['ferry run phases (median s)', 'rows', ...PHASES], phaseRows)) out(l);
  }
  out();
  for (const l of targetLines) out(`- ${l.replace(/^(PASS|FAIL|info)/, '**$1**')}`);
}

// ---------------------------------------------------------------------------------------------

async function cleanup(): Promise<void> {
  // Servers first: their folders and processes must go even when removing files fails.
  for (const stop of partCleanups.splice(0)) await stop().catch((e: Error) => out(`cleanup: ${e.message}`));
  rmSync(dir, { recursive: true, force: true });
  if (!KEEP && exportPgUsed) {
    await dropPg(PG_URL).catch((e: Error) => out(`could not drop the bench schema: ${e.message}`));
  }
}

process.on('SIGINT', () => {
  // The timed commands run in their own process groups (see Timer); end the one running now.
  timer.killRunning();
  void cleanup().finally(() => process.exit(130));
});

try {
  await main();
} catch (e) {
  problems.push(`the bench crashed: ${(e as Error).stack ?? String(e)}`);
} finally {
  await cleanup();
  if (KEEP && exportPgUsed) out(`kept PostgreSQL schema ferry_bench for the next run (FERRY_BENCH_KEEP=1)`);
}
if (problems.length) {
  out();
  out('Problems (exit code 1):');
  for (const p of problems) out(`  ${p}`);
  process.exitCode = 1;
}
