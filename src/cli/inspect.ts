/** `ferry list`, `ferry status`, `ferry history`: read-only views. */
import type { Command } from 'commander';
import { selectJobs } from '../config/load.js';
import { listJobs, statusReport } from '../core/report.js';
import { UsageError } from '../errors.js';
import { withSession, type GlobalOptions } from './context.js';
import { formatBytes, printJson, printLines, table } from './output.js';

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag}: expected a positive whole number, got '${v}'`);
  return n;
}

export function registerInspect(program: Command, globals: () => GlobalOptions): void {
  program
    .command('list')
    .description('jobs with kind, schedule, connections and next due time')
    .action(async () => {
      const g = globals();
      const jobs = await withSession(g, async (s, p) => listJobs(s, selectJobs(p, [])));
      if (g.json) return printJson({ jobs });
      printLines(
        table(
          ['JOB', 'KIND', 'SCHEDULE', 'NEXT DUE', 'FROM', 'TO', 'FILE'],
          jobs.map((j) => [j.job, j.kind, j.schedule ?? '-', j.nextDue ?? '-', j.source, j.destinations.join(', ') || '(archive only)', j.file]),
        ),
      );
    });

  program
    .command('status')
    .description('jobs × recent business dates: sent, failed, not run, …')
    .argument('[job]', 'one job (default: all)')
    .option('--days <n>', 'how many business dates to show', '7')
    .action(async (job: string | undefined, flags: { days: string }) => {
      const g = globals();
      const days = positiveInt(flags.days, '--days');
      const rows = await withSession(g, async (s, p) => statusReport(s, selectJobs(p, job ? [job] : []), days));
      if (g.json) return printJson({ jobs: rows });
      const dates = [...new Set(rows.flatMap((r) => r.cells.map((c) => c.date)))].sort().reverse();
      const lines = table(
        ['JOB', ...dates],
        rows.map((r) => [r.job, ...dates.map((d) => r.cells.find((c) => c.date === d)?.status ?? '')]),
      );
      for (const r of rows) for (const c of r.cells) if (c.error) lines.push(`${r.job} ${c.date}: ${c.status}${c.failures ? ` (failed ${c.failures}×)` : ''}: ${c.error}`);
      printLines(lines);
    });

  program
    .command('history')
    .description('attempts of a job with files, rows, bytes, sha256, deliveries and errors')
    .argument('<job>', 'job name')
    .option('--limit <n>', 'how many attempts', '20')
    .action(async (job: string, flags: { limit: string }) => {
      const g = globals();
      const limit = positiveInt(flags.limit, '--limit');
      const attempts = await withSession(g, async (s, p) => {
        selectJobs(p, [job]);
        return (await s.state()).history(job, limit);
      });
      if (g.json) return printJson({ job, attempts });
      const lines: string[] = [];
      for (const a of attempts) {
        const when = new Date(a.startedAt).toISOString();
        lines.push(`#${a.id} ${a.businessDate} ${a.status}${a.outcome ? ` (${a.outcome})` : ''}${a.forced ? ' forced' : ''} at ${when} by ${a.runId}`);
        for (const f of a.files) {
          lines.push(`  file ${f.name}  ${f.rows} rows  ${formatBytes(f.size)}  sha256 ${f.sha256}  ${f.archivePath}`);
          for (const d of f.deliveries) {
            lines.push(`    ${d.status} ${d.connection}:${d.remotePath}${d.resend ? ' (resend)' : ''}${d.error ? ` — ${d.error}` : ''}`);
          }
        }
        for (const f of a.received) {
          lines.push(
            `  received ${f.name}  ${f.status}${f.late ? ' (late)' : ''}  ${f.rows ?? 0} rows  ${formatBytes(f.size)}  sha256 ${f.sha256}  ${f.connection ? `from ${f.connection}:${f.remotePath}` : 'by hand'}${f.localPath ? `  → ${f.localPath}` : ''}`,
          );
        }
        if (a.error) lines.push(`  error: ${a.error}`);
      }
      if (!lines.length) lines.push(`no attempts recorded for ${job}`);
      printLines(lines);
    });
}
