/** `ferry run <job...> [--date D | --from D1 --to D2] [--force] [--dry-run]` */
import type { Command } from 'commander';
import { dateRange, parseDateArg } from '../core/dates.js';
import type { InstanceResult } from '../core/export.js';
import { combinedExitCode, runJobs } from '../core/run.js';
import { selectJobs } from '../config/load.js';
import { formatProblem, UsageError } from '../errors.js';
import { withSession, type GlobalOptions } from './context.js';
import { formatBytes, printJson, printLines, table } from './output.js';

interface RunFlags {
  date?: string;
  from?: string;
  to?: string;
  force?: boolean;
  dryRun?: boolean;
}

export function registerRun(program: Command, globals: () => GlobalOptions): void {
  program
    .command('run')
    .description('run export jobs for their business date (or the given dates); safe to repeat')
    .argument('<job...>', 'job names (file names in jobs/)')
    .option('--date <yyyy-MM-dd>', 'business date to run')
    .option('--from <yyyy-MM-dd>', 'first business date of a range')
    .option('--to <yyyy-MM-dd>', 'last business date of a range (inclusive)')
    .option('--force', 'run even if the instance already succeeded (produces the file again)')
    .option('--dry-run', 'show what would be produced and where, without writing anything')
    .action(async (jobs: string[], flags: RunFlags) => {
      const g = globals();
      if (flags.date && (flags.from || flags.to)) throw new UsageError('use either --date or --from/--to, not both');
      if (Boolean(flags.from) !== Boolean(flags.to)) throw new UsageError('--from and --to go together');
      const results = await withSession(g, async (session, project) => {
        const selected = selectJobs(project, jobs);
        const tz = session.timezone;
        const dates = flags.date
          ? [parseDateArg(flags.date, tz)]
          : flags.from && flags.to
            ? dateRange(parseDateArg(flags.from, tz, '--from'), parseDateArg(flags.to, tz, '--to'))
            : undefined;
        // An operator forcing a run must learn it did not happen; cron runs just skip a held instance.
        return runJobs(session, { jobs: selected, dates, force: flags.force, dryRun: flags.dryRun, busyIsError: Boolean(flags.force) });
      });
      if (g.json) printJson({ results });
      else printLines(describeResults(results));
      process.exitCode = combinedExitCode(results.map((r) => r.exitCode));
    });
}

export function describeResults(results: InstanceResult[]): string[] {
  const rows = results.map((r) => [
    r.job,
    r.date,
    r.outcome,
    r.file ?? (r.received?.length === 1 ? r.received[0]!.name : ''),
    r.rows === undefined ? '' : String(r.rows),
    formatBytes(r.bytes),
    r.kind === 'export'
      ? (r.deliveries ?? []).map((d) => `${d.connection}:${d.path}${d.outcome === 'delivered' ? '' : ` (${d.outcome})`}`).join(', ')
      : (r.received ?? []).map((f) => `${f.name} (${f.outcome}${f.late ? ', late' : ''})`).join(', '),
  ]);
  const out = table(['JOB', 'DATE', 'OUTCOME', 'FILE', 'ROWS', 'SIZE', 'DELIVERED TO / RECEIVED'], rows);
  for (const r of results) {
    if (r.error) out.push(`${r.job} ${r.date}: ${r.error}`);
    for (const f of r.received ?? []) for (const p of (f.problems ?? []).slice(0, 10)) out.push(`  ${f.name}: ${formatProblem(p)}`);
  }
  return out;
}
