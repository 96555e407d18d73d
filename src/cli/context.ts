/** What every command needs: global flags parsed, the project loaded, a session opened. */
import { loadProject, type Project } from '../config/load.js';
import { Session } from '../core/session.js';
import { terminalProgress } from './progress.js';
import { createLogger, type LogFormat, type Logger } from '../log.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  logFormat?: LogFormat;
  quiet?: boolean;
  verbose?: boolean;
}

export function loggerFor(g: GlobalOptions): Logger {
  const level = g.quiet ? 'error' : g.verbose ? 'debug' : 'info';
  return createLogger({ format: g.logFormat, level });
}

/** Load the project and run `fn` with a session that is always closed afterwards. */
export async function withSession<T>(g: GlobalOptions, fn: (s: Session, p: Project) => Promise<T>): Promise<T> {
  const project = await loadProject({ configFile: g.config });
  // Bars only for a person at a terminal, never in cron logs or machine output.
  const progress = process.stderr.isTTY && !g.quiet && !g.json && g.logFormat !== 'json' ? terminalProgress() : undefined;
  const session = new Session(project, loggerFor(g), { progress });
  try {
    return await fn(session, project);
  } finally {
    await session.close();
  }
}
