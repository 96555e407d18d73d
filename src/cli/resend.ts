/** `ferry resend <job> --date D [--to CONN]` */
import type { Command } from 'commander';
import { selectJobs } from '../config/load.js';
import { parseDateArg } from '../core/dates.js';
import { resendInstance } from '../core/resend.js';
import { UsageError } from '../errors.js';
import { withSession, type GlobalOptions } from './context.js';
import { printJson, printLines } from './output.js';
import { describeResults } from './run.js';

export function registerResend(program: Command, globals: () => GlobalOptions): void {
  program
    .command('resend')
    .description('send the archived bytes of a business date again, under the same name')
    .argument('<job>', 'job name')
    .option('--date <yyyy-MM-dd>', 'business date whose file to resend (required)')
    .option('--to <connection>', "only this connection of the job's destinations")
    .action(async (job: string, flags: { date?: string; to?: string }) => {
      const g = globals();
      if (!flags.date) throw new UsageError('resend needs --date yyyy-MM-dd');
      const result = await withSession(g, async (session, project) => {
        const [selected] = selectJobs(project, [job]);
        if (selected!.kind !== 'export') throw new UsageError(`${job} is an import job; resend sends export files (use ferry reingest for imports)`);
        return resendInstance(session, { job: selected!, date: parseDateArg(flags.date!, session.timezone), to: flags.to });
      });
      if (g.json) printJson({ results: [result] });
      else printLines(describeResults([result]));
      process.exitCode = result.exitCode;
    });
}
