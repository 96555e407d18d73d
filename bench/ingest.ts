/**
 * Ingest part of `npm run bench`: one CSV file (1,000,000 rows by default, ten mixed columns)
 * loaded by `bin/ferry ingest <job> --file FILE --date D` and by the databases' own import tools:
 *
 * - PostgreSQL: an import job with `load: { mode: 'insert' }` into `ferry_bench_ingest.rows_ferry`
 *   vs `psql -c "\copy ferry_bench_ingest.rows_psql from FILE csv header"` into an identical table;
 * - SQLite: the same job shape into a SQLite file vs the sqlite3 shell's
 *   `.import --csv --skip 1 FILE rows_in` into an identical table in a fresh file.
 *
 * Every repetition starts from an empty table: PostgreSQL tables are truncated and ferry's marker
 * row (`ferry_ingested_files`, job + sha256) is deleted, so each ferry run is a normal first
 * ingest (no --force); SQLite files are created anew. After each load the bench counts the rows,
 * and for ferry also the NULL and empty-string notes (CSV must tell them apart). After the last
 * repetition the two PostgreSQL tables are compared row by row (EXCEPT ALL both ways).
 *
 * ferry's connection URL sets `search_path` to the bench schema, so its marker table lands there
 * and is dropped with the schema at the end; nothing is left in the database's public schema.
 *
 * Targets (reported, not asserted): ferry ≤ 3× the native tool's time, peak RSS < 150 MiB.
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Timed } from './measure.js';
import { profileNode, ratioText, runInterleaved, verdict, type CaseDef, type CaseSummary, type PartContext, type Sample } from './parts.js';
import { fixed, grouped, markdownTable, mib, textTable, type Cell } from './report.js';

const RSS_TARGET_MIB = 150;
const TIME_TARGET_RATIO = 3;
const TIMEOUT_SECONDS = 600;
const ZONE = 'Asia/Seoul';
const DATE = '2026-11-20';
const SCHEMA = 'ferry_bench_ingest';

const HEADER = 'id,name,qty,amount,ratio,paid,day,ts,local_ts,note';

/** The file's columns as the import job declares them. */
const JOB_COLUMNS = `{
    id: 'int', name: 'string', qty: 'int', amount: 'decimal', ratio: 'decimal', paid: 'bool',
    day: 'date', ts: 'timestamptz', local_ts: 'timestamp', note: { type: 'string', nullable: true },
  }`;

const PG_TABLE_DDL = (t: string) => `create table ${SCHEMA}.${t} (
  id bigint primary key, name text not null, qty int not null, amount numeric(18,2) not null, ratio numeric not null,
  paid boolean not null, day date not null, ts timestamptz not null, local_ts timestamp not null, note text)`;

// SQLite: `decimal text` keeps the decimals as exact text (plain DECIMAL has NUMERIC affinity and
// would store the 27-digit ratio as a double); DATETIME/TIMESTAMP/DATE hold text.
const SQLITE_TABLE_DDL = `create table rows_in (
  id integer primary key, name text not null, qty integer not null, amount decimal text not null, ratio decimal text not null,
  paid boolean not null, day date not null, ts datetime not null, local_ts timestamp not null, note text)`;

interface Expected {
  rows: number;
  nullNotes: number;
  emptyNotes: number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * Write the CSV. Values exercise the reader and the loaders: quoted text with commas, doubled
 * quotes and Korean; exact decimals with more digits than a double holds; timestamps with a UTC
 * offset and microseconds, and without an offset; NULL (empty unquoted field) next to the empty
 * string (`""`) in the nullable column.
 */
async function writeCsv(path: string, rows: number): Promise<Expected> {
  const days: string[] = [];
  const base = Date.UTC(2026, 10, 20);
  for (let i = 0; i < 365; i++) days.push(new Date(base - i * 86_400_000).toISOString().slice(0, 10));
  // Rows are spread evenly over the business day in Asia/Seoul, in microseconds.
  const stepUs = 86_400_000_000 / rows;
  const exp: Expected = { rows, nullNotes: 0, emptyNotes: 0 };
  const out = createWriteStream(path);
  out.write(HEADER + '\n');
  let buf: string[] = [];
  for (let id = 1; id <= rows; id++) {
    const m10 = id % 10;
    const name = m10 === 0 ? `"Kim, ""Jay"" ${id}"` : m10 === 1 ? `홍길동 상점 ${id}` : m10 === 2 ? `"a,b;c ${id}"` : `customer ${id}`;
    const qty = ((id * 7919) % 100000) - 50000;
    const cents = (id * 7907) % 10000000;
    const amount = `${Math.floor(cents / 100)}.${pad(cents % 100)}`;
    const ratio = `${123456789012 + Math.floor(id / 7)}.${pad((id % 7) * 142857142857142, 15)}`;
    const us = Math.floor((id - 1) * stepUs);
    const sec = Math.floor(us / 1e6);
    const clock = `${pad(Math.floor(sec / 3600))}:${pad(Math.floor(sec / 60) % 60)}:${pad(sec % 60)}.${pad(us % 1e6, 6)}`;
    const m5 = id % 5;
    const note = m5 === 0 ? '' : m5 === 1 ? '""' : `note ${id}`;
    if (m5 === 0) exp.nullNotes++;
    else if (m5 === 1) exp.emptyNotes++;
    buf.push(`${id},${name},${qty},${amount},${ratio},${id % 3 === 0},${days[id % 365]},${DATE}T${clock}+09:00,${DATE} ${clock},${note}`);
    if (buf.length === 10_000 || id === rows) {
      if (!out.write(buf.join('\n') + '\n')) await once(out, 'drain');
      buf = [];
    }
  }
  out.end();
  await once(out, 'finish');
  return exp;
}

function failure(what: string, t: Timed): Error {
  const tail = t.stderr.trim().split('\n').slice(-12).join('\n');
  return new Error(`${what} exited with ${t.code}${tail ? `:\n${tail}` : ''}`);
}

/** The URL with `search_path` set to the bench schema (ferry's marker table then lands there). */
function withSearchPath(url: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return u.toString();
}

interface IngestCase extends CaseDef {
  db: 'PostgreSQL' | 'SQLite';
  tool: 'native' | 'ferry';
  baseline?: string;
  job?: string;
  /** Empties the target before a (profiled) run. */
  reset?: () => Promise<void>;
}

export interface IngestOptions {
  pgUrl: string;
  pg: boolean;
  sqlite: boolean;
  ferryBin: string;
}

export async function runIngest(ctx: PartContext, opts: IngestOptions): Promise<string[]> {
  const problems: string[] = [];
  const { out, timer } = ctx;
  const rowsEnv = process.env.FERRY_BENCH_INGEST_ROWS ?? process.env.FERRY_BENCH_ROWS;
  const rows = rowsEnv ? Number(rowsEnv) : 1_000_000;
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`FERRY_BENCH_INGEST_ROWS must be a positive integer`);
  const work = join(ctx.dir, 'ingest');
  const project = join(work, 'project');
  for (const d of [work, project, join(project, 'jobs'), join(project, 'data'), join(project, 'drop')]) mkdirSync(d, { recursive: true });

  out();
  out(`== Ingest: ${grouped(rows)}-row CSV, ${ctx.repeat} repetitions, median time, max RSS ==`);
  const csv = join(work, `rows_${DATE.replace(/-/g, '')}.csv`);
  const t0 = Date.now();
  const exp = await writeCsv(csv, rows);
  const { size } = statSync(csv);
  out(`CSV written in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(size / 1e6).toFixed(0)} MB`);

  // --- the ferry project ----------------------------------------------------------------------
  writeFileSync(
    join(project, 'ferry.config.ts'),
    `// Written by bench/ingest.ts for one benchmark run; removed afterwards.
// The PostgreSQL URL comes from the environment so a password never lands in a file.
import { defineConfig, env } from 'ferry';
export default defineConfig({
  timezone: ${JSON.stringify(ZONE)},
  connections: {
    pg: { type: 'database', client: 'pg', connection: env('FERRY_BENCH_INGEST_PG_URL') },
    lite: { type: 'database', client: 'sqlite', connection: 'data/ingest.sqlite' },
    drop: { type: 'local', root: 'drop' },
  },
});
`,
  );
  const job = (connection: string, table: string) => `import { defineImport } from 'ferry';
// Fetch is never used here: the bench hands the file over with \`ferry ingest --file\`.
export default defineImport({
  fetch: { connection: 'drop', file: 'rows_{date:yyyyMMdd}.csv' },
  format: { type: 'csv', header: true, columns: ${JOB_COLUMNS} },
  load: { connection: ${JSON.stringify(connection)}, table: ${JSON.stringify(table)}, mode: 'insert' },
});
`;
  writeFileSync(join(project, 'jobs', 'ingest-pg.ts'), job('pg', 'rows_ferry'));
  writeFileSync(join(project, 'jobs', 'ingest-sqlite.ts'), job('lite', 'rows_in'));
  const ferryEnv = { ...process.env, FERRY_BENCH_INGEST_PG_URL: withSearchPath(opts.pgUrl) };
  /** The inbox copy, archive and error folders of earlier repetitions: every run starts alike. */
  const clearWork = () => {
    for (const d of ['inbox', 'archive', 'error']) rmSync(join(project, 'var', d), { recursive: true, force: true });
  };
  const ferryArgs = (jobName: string) => [opts.ferryBin, '--json', '--log-format', 'json', 'ingest', jobName, '--file', csv, '--date', DATE];

  const ferryIngest = async (jobName: string): Promise<{ t: Timed; notes: string[] }> => {
    clearWork();
    const t = await timer.run(process.execPath, ferryArgs(jobName), { cwd: project, env: ferryEnv, timeoutSeconds: TIMEOUT_SECONDS });
    clearWork();
    let r: { outcome?: string; rows?: number; error?: string } | undefined;
    try {
      r = (JSON.parse(t.stdout) as { results?: Array<{ outcome?: string; rows?: number; error?: string }> }).results?.[0];
    } catch {
      // No JSON: the failure below shows stderr.
    }
    if (t.code !== 0 || r?.outcome !== 'ingested') {
      const err = failure(`bin/ferry ingest ${jobName}`, t);
      if (r?.error) err.message += `\nresult: ${r.outcome}: ${r.error}`;
      throw err;
    }
    const notes = r.rows === rows ? [] : [`ferry reported ${r.rows} rows, expected ${rows}`];
    return { t, notes };
  };

  const cases: IngestCase[] = [];
  let client: pg.Client | undefined;
  try {
    // --- PostgreSQL ---------------------------------------------------------------------------
    if (opts.pg) {
      try {
        client = new pg.Client({ connectionString: opts.pgUrl });
        await client.connect();
        const version = (await client.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]?.v;
        await client.query(`drop schema if exists ${SCHEMA} cascade; create schema ${SCHEMA}; ${PG_TABLE_DDL('rows_ferry')}; ${PG_TABLE_DDL('rows_psql')}`);
        out(`PostgreSQL ${version}: schema ${SCHEMA} with tables rows_ferry and rows_psql`);
      } catch (e) {
        problems.push(`PostgreSQL ingest skipped: cannot set up schema ${SCHEMA}: ${(e as Error).message}`);
        out(problems[problems.length - 1]);
        await client?.end().catch(() => undefined);
        client = undefined;
      }
    }
    if (client) {
      const c = client;
      // A checkpoint before each load (untimed), so no run pays for the previous run's WAL.
      const checkpoint = () => c.query('checkpoint').catch(() => undefined);
      const resetFerry = async () => {
        await c.query(`truncate ${SCHEMA}.rows_ferry`);
        // The marker table exists after the first ferry run; its row would make the next a duplicate.
        await c.query(`delete from ${SCHEMA}.ferry_ingested_files where job = 'ingest-pg'`).catch((e: { code?: string }) => {
          if (e.code !== '42P01') throw e;
        });
        await checkpoint();
      };
      const countPg = async (table: string, checkNulls: boolean): Promise<string[]> => {
        const r = await c.query<{ n: number; nulls: number; empties: number }>(
          `select count(*)::int n, (count(*) filter (where note is null))::int nulls, (count(*) filter (where note = ''))::int empties from ${SCHEMA}.${table}`,
        );
        const got = r.rows[0]!;
        if (got.n !== rows) throw new Error(`${SCHEMA}.${table} has ${got.n} rows after the load, expected ${rows}`);
        if (checkNulls && (got.nulls !== exp.nullNotes || got.empties !== exp.emptyNotes)) {
          return [`note: ${got.nulls} NULL and ${got.empties} empty, expected ${exp.nullNotes} and ${exp.emptyNotes}`];
        }
        return [];
      };
      const psqlEnv = { ...process.env, PGTZ: ZONE };
      cases.push({
        id: 'pg-psql',
        db: 'PostgreSQL',
        tool: 'native',
        label: 'psql \\copy t from file csv header',
        run: async (): Promise<Sample> => {
          await c.query(`truncate ${SCHEMA}.rows_psql`);
          await checkpoint();
          const sql = `\\copy ${SCHEMA}.rows_psql from '${csv.replace(/'/g, "''")}' csv header`;
          const t = await timer.run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', opts.pgUrl, '-c', sql], { env: psqlEnv, timeoutSeconds: TIMEOUT_SECONDS });
          if (t.code !== 0) throw failure('psql \\copy', t);
          return { seconds: t.seconds, rssKiB: t.peakRssKiB, notes: await countPg('rows_psql', true) };
        },
      });
      cases.push({
        id: 'pg-ferry',
        db: 'PostgreSQL',
        tool: 'ferry',
        label: "ferry ingest (load mode 'insert': COPY)",
        baseline: 'pg-psql',
        job: 'ingest-pg',
        reset: resetFerry,
        run: async (): Promise<Sample> => {
          await resetFerry();
          const { t, notes } = await ferryIngest('ingest-pg');
          return { seconds: t.seconds, rssKiB: t.peakRssKiB, notes: [...notes, ...(await countPg('rows_ferry', true))] };
        },
      });
    }

    // --- SQLite -------------------------------------------------------------------------------
    if (opts.sqlite) {
      const ferryDb = join(project, 'data', 'ingest.sqlite');
      const nativeDb = join(work, 'native.sqlite');
      /** A new file with the empty table, for every run of either tool. */
      const freshDb = (file: string) => {
        for (const f of [file, `${file}-journal`, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
        const db = new Database(file);
        db.exec(SQLITE_TABLE_DDL);
        db.close();
      };
      const countSqlite = (file: string, checkNulls: boolean): string[] => {
        const db = new Database(file, { readonly: true });
        try {
          const got = db.prepare(`select count(*) n, coalesce(sum(note is null), 0) nulls, coalesce(sum(note = ''), 0) empties from rows_in`).get() as {
            n: number;
            nulls: number;
            empties: number;
          };
          if (got.n !== rows) throw new Error(`${file} has ${got.n} rows after the load, expected ${rows}`);
          if (checkNulls && (got.nulls !== exp.nullNotes || got.empties !== exp.emptyNotes)) {
            return [`note: ${got.nulls} NULL and ${got.empties} empty, expected ${exp.nullNotes} and ${exp.emptyNotes}`];
          }
          return [];
        } finally {
          db.close();
        }
      };
      cases.push({
        id: 'sqlite-shell',
        db: 'SQLite',
        tool: 'native',
        label: 'sqlite3 .import --csv --skip 1 file t',
        run: async (): Promise<Sample> => {
          freshDb(nativeDb);
          const t = await timer.run('sqlite3', ['-bail', nativeDb, `.import --csv --skip 1 "${csv}" rows_in`], { timeoutSeconds: TIMEOUT_SECONDS });
          // The shell reports bad lines on stderr but may still exit 0: the row count decides.
          if (t.code !== 0 || t.stderr.trim()) throw failure('sqlite3 .import', t);
          // .import stores empty fields as '' (it has no NULL), so only the count is compared.
          return { seconds: t.seconds, rssKiB: t.peakRssKiB, notes: countSqlite(nativeDb, false) };
        },
      });
      const resetSqlite = async () => freshDb(ferryDb);
      cases.push({
        id: 'sqlite-ferry',
        db: 'SQLite',
        tool: 'ferry',
        label: "ferry ingest (load mode 'insert': prepared statements)",
        baseline: 'sqlite-shell',
        job: 'ingest-sqlite',
        reset: resetSqlite,
        run: async (): Promise<Sample> => {
          await resetSqlite();
          const { t, notes } = await ferryIngest('ingest-sqlite');
          return { seconds: t.seconds, rssKiB: t.peakRssKiB, notes: [...notes, ...countSqlite(ferryDb, true)] };
        },
      });
    }

    if (cases.length === 0) return problems;
    out();
    const res = await runInterleaved(ctx, cases);

    if (client && res.get('pg-psql')?.samples.length && res.get('pg-ferry')?.samples.length) {
      // Both tables hold the last repetition's rows: they must be the same rows.
      const diff = await client.query<{ a: number; b: number }>(
        `select (select count(*) from (select * from ${SCHEMA}.rows_ferry except all select * from ${SCHEMA}.rows_psql) x)::int a,
                (select count(*) from (select * from ${SCHEMA}.rows_psql except all select * from ${SCHEMA}.rows_ferry) y)::int b`,
      );
      const d = diff.rows[0]!;
      if (d.a || d.b) problems.push(`PostgreSQL: ferry's and psql's tables differ (${d.a} rows only in ferry's, ${d.b} only in psql's)`);
      else out(`check: ferry's and psql's PostgreSQL tables hold exactly the same ${grouped(rows)} rows`);
    }

    report(ctx, cases, res, rows, size, problems);

    if (ctx.profile) {
      for (const c of cases) {
        if (c.tool !== 'ferry') continue;
        const s = res.get(c.id)!;
        const base = res.get(c.baseline ?? '')?.seconds;
        const timeMiss = s.seconds !== undefined && base !== undefined && s.seconds / base > TIME_TARGET_RATIO;
        const rssMiss = s.rssKiB !== undefined && s.rssKiB / 1024 >= RSS_TARGET_MIB;
        if (!timeMiss && !rssMiss) continue;
        await c.reset?.();
        clearWork();
        out();
        out(`CPU profile: ${c.db}: ${c.label} (missed: ${[timeMiss ? 'time' : '', rssMiss ? 'RSS' : ''].filter(Boolean).join(', ')})`);
        for (const l of profileNode(ctx, c.id, ferryArgs(c.job!), { cwd: project, env: ferryEnv, after: clearWork })) out(`  ${l}`);
      }
    }
  } finally {
    if (client) {
      await client.query(`drop schema if exists ${SCHEMA} cascade`).catch((e: Error) => out(`could not drop schema ${SCHEMA}: ${e.message}`));
      await client.end().catch(() => undefined);
    }
    rmSync(work, { recursive: true, force: true });
  }
  return problems;
}

function report(ctx: PartContext, cases: IngestCase[], res: Map<string, CaseSummary>, rows: number, bytes: number, problems: string[]): void {
  const { out } = ctx;
  const ratioOf = (c: IngestCase): number | undefined => {
    const s = res.get(c.id)?.seconds;
    const b = res.get(c.baseline ?? '')?.seconds;
    return s !== undefined && b ? s / b : undefined;
  };
  const tableRows: Cell[][] = [];
  for (const c of cases) {
    const s = res.get(c.id)!;
    tableRows.push([
      `${c.db}: ${c.label}${s.samples.length ? '' : ' (FAILED)'}`,
      fixed(s.seconds),
      s.min === undefined ? '—' : `${fixed(s.min)}–${fixed(s.max)}`,
      s.seconds ? grouped(rows / s.seconds) : '—',
      s.seconds ? (bytes / 1e6 / s.seconds).toFixed(0) : '—',
      mib(s.rssKiB),
      c.tool === 'native' ? '1.00' : ratioText(ratioOf(c)).replace('×', ''),
    ]);
    if (s.errors.length) problems.push(`${c.id} failed in ${s.errors.length} of ${ctx.repeat} runs; first error: ${s.errors[0]!.split('\n')[0]}`);
    for (const n of new Set(s.samples.flatMap((x) => x.notes))) problems.push(`${c.id}: ${n}`);
  }
  const head = ['case', 'seconds', 'min–max', 'rows/s', 'MB/s', 'peak RSS MiB', '× native'];
  out();
  out(`Ingest results (${grouped(rows)} rows, ${(bytes / 1e6).toFixed(0)} MB CSV; peak RSS of the client process, not the database server):`);
  for (const l of textTable(head, tableRows)) out(l);

  const lines: string[] = [];
  for (const c of cases) {
    if (c.tool !== 'ferry') continue;
    const r = ratioOf(c);
    const base = cases.find((x) => x.id === c.baseline)!;
    lines.push(`${r === undefined ? 'FAIL' : verdict(r <= TIME_TARGET_RATIO)}  time ≤ ${TIME_TARGET_RATIO}× native   ${c.db}: ferry ingest vs ${base.label}: ${r === undefined ? 'no ratio (a run failed)' : ratioText(r)}`);
  }
  for (const c of cases) {
    if (c.tool !== 'ferry') continue;
    const s = res.get(c.id)!;
    lines.push(`${s.rssKiB === undefined ? 'FAIL' : verdict(s.rssKiB / 1024 < RSS_TARGET_MIB)}  peak RSS < ${RSS_TARGET_MIB} MiB   ${c.db}: ferry ingest: ${mib(s.rssKiB)} MiB`);
  }
  out();
  out(`Ingest targets${rows === 1_000_000 ? '' : ` (defined at 1,000,000 rows; this run used ${grouped(rows)}, so only indicative)`}:`);
  for (const l of lines) out(`  ${l}`);
  out();
  out('Markdown (for BENCHMARKS.md):');
  out();
  for (const l of markdownTable(head, tableRows)) out(l);
  out();
  for (const l of lines) out(`- ${l.replace(/^(PASS|FAIL)/, '**$1**')}`);
}
