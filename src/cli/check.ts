/** `ferry check [<job>]` */
import type { Command } from 'commander';
import { jobWarnings } from '../config/job-rules.js';
import { jobConnections, selectJobs } from '../config/load.js';
import { checkConnections } from '../core/check.js';
import { ExitCode } from '../errors.js';
import { withSession, type GlobalOptions } from './context.js';
import { printJson, printLines, table } from './output.js';

export function registerCheck(program: Command, globals: () => GlobalOptions): void {
  program
    .command('check')
    .description('validate job definitions and reach every database and folder they use')
    .argument('[job]', 'check only the connections of this job')
    .action(async (job: string | undefined) => {
      const g = globals();
      const { jobs, warnings, results } = await withSession(g, async (s, p) => {
        const selected = selectJobs(p, job ? [job] : []);
        const only = job
          ? new Set(selected.flatMap((j) => jobConnections(j)))
          : undefined;
        // Valid but likely wrong: shown, and the check still succeeds.
        const warnings = selected.flatMap((j) => jobWarnings(j.kind, j.def as unknown as Record<string, unknown>).map((w) => `${j.file}: ${w}`));
        return { jobs: selected.map((j) => j.name), warnings, results: await checkConnections(s, only) };
      });
      const ok = results.every((r) => r.ok);
      if (g.json) printJson({ ok, jobs, warnings, connections: results });
      else
        printLines([
          `definitions: ${jobs.length} job(s) valid (${jobs.join(', ') || 'none'})`,
          ...warnings.map((w) => `warning: ${w}`),
          ...table(['CONNECTION', 'TYPE', 'OK', 'DETAIL'], results.map((r) => [r.name, r.type, r.ok ? 'yes' : 'NO', r.detail])),
        ]);
      process.exitCode = ok ? ExitCode.ok : ExitCode.failed;
    });
}
