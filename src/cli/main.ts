/**
 * The command line. Commander wiring only: flags → typed options → one core call → print.
 * This is the one place that turns errors into exit codes (SPEC §6) and never calls
 * process.exit (queued stdout would be lost when piped): it sets process.exitCode and returns.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, describeError, ExitCode, isFerryError } from '../errors.js';
import { redact } from '../secrets.js';
import { terminalSafe } from '../terminal-text.js';
import { registerCheck } from './check.js';
import type { GlobalOptions } from './context.js';
import { registerInspect } from './inspect.js';
import { registerIngest } from './ingest.js';
import { registerResend } from './resend.js';
import { registerRun } from './run.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(): Command {
  const program = new Command('ferry');
  program
    .description('Scheduled batch file interchange: export, deliver, fetch, check and ingest partner files exactly once.')
    .version(version())
    .option('--config <file>', 'project config file (default: ./ferry.config.ts)')
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('--log-format <format>', 'log format on stderr (default: pretty on a terminal, else json)').choices(['json', 'pretty']))
    .option('-q, --quiet', 'log errors only')
    .option('-v, --verbose', 'log debug details')
    .showHelpAfterError()
    .exitOverride();
  const globals = () => program.opts<GlobalOptions>();
  registerRun(program, globals);
  registerResend(program, globals);
  registerIngest(program, globals);
  registerInspect(program, globals);
  registerCheck(program, globals);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/**
 * An error on stderr, one line per entry: each escaped first (it may quote a partner's server or
 * file name, which must not break the line), then secrets redacted.
 */
function printError(lines: string[]): void {
  process.stderr.write(redact(lines.map(terminalSafe).join('\n')) + '\n');
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version end with code 0; every other commander complaint is a usage error.
      process.exitCode = e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    if (e instanceof ConfigError) {
      if (e.problems.length > 1) printError([`ferry: ${e.problems.length} problems:`, ...e.problems.map((p) => `  ${p}`)]);
      else printError([`ferry: ${e.problems[0] ?? ''}`]);
      process.exitCode = e.exitCode;
      return;
    }
    if (isFerryError(e)) {
      printError([`ferry: ${describeError(e)}`]);
      process.exitCode = e.exitCode;
      return;
    }
    // A bug's stack keeps its lines (each escaped like any other).
    printError(`ferry: internal error (a bug; please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`.split('\n'));
    process.exitCode = ExitCode.internal;
  }
}
