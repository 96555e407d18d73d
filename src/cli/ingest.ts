/** `ferry ingest <job> --file PATH [--date D] [--force]` and `ferry reingest <job> --date D` */
import type { Command } from 'commander';
import { selectJobs, type LoadedImportJob, type Project } from '../config/load.js';
import { businessDateFor, parseDateArg } from '../core/dates.js';
import { ingestByHand } from '../core/manual-ingest.js';
import type { Session } from '../core/session.js';
import { UsageError } from '../errors.js';
import { withSession, type GlobalOptions } from './context.js';
import { printJson, printLines } from './output.js';
import { describeResults } from './run.js';

function importJob(project: Project, name: string): LoadedImportJob {
  const [job] = selectJobs(project, [name]);
  if (job!.kind !== 'import') throw new UsageError(`${name} is an export job; ingest and reingest are for import jobs`);
  return job!;
}

export function registerIngest(program: Command, globals: () => GlobalOptions): void {
  const finish = (g: GlobalOptions, result: Awaited<ReturnType<typeof ingestByHand>>) => {
    if (g.json) printJson({ results: [result] });
    else printLines(describeResults([result]));
    process.exitCode = result.exitCode;
  };

  program
    .command('ingest')
    .description('ingest a local file by hand, with the same checks and exactly-once load')
    .argument('<job>', 'import job name')
    .requiredOption('--file <path>', 'the file to ingest')
    .option('--date <yyyy-MM-dd>', "business date it belongs to (default: the job's business date now)")
    .option('--force', 'load it even if the same bytes were ingested before')
    .action(async (name: string, flags: { file: string; date?: string; force?: boolean }) => {
      const g = globals();
      const result = await withSession(g, async (session: Session, project) => {
        const job = importJob(project, name);
        const date = flags.date ? parseDateArg(flags.date, session.timezone) : businessDateFor(job.def.businessDate, session.now(), session.timezone);
        return ingestByHand(session, { job, date, force: Boolean(flags.force), file: flags.file });
      });
      finish(g, result);
    });

  program
    .command('reingest')
    .description('load the archived file of a business date again')
    .argument('<job>', 'import job name')
    .option('--date <yyyy-MM-dd>', 'business date (required)')
    .action(async (name: string, flags: { date?: string }) => {
      const g = globals();
      if (!flags.date) throw new UsageError('reingest needs --date yyyy-MM-dd');
      const result = await withSession(g, async (session, project) =>
        ingestByHand(session, { job: importJob(project, name), date: parseDateArg(flags.date!, session.timezone), force: true }),
      );
      finish(g, result);
    });
}
