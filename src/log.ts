/**
 * Logging: pino on stderr, synchronous (a CLI logs little, and a log line must not be lost
 * when the process ends — PITFALLS §10). JSON unless the user asks for pretty output or stderr
 * is a terminal. Every line passes through `redact()` before it is written.
 */
import { pino, type Logger } from 'pino';
import { redact } from './secrets.js';
import { terminalSafe } from './terminal-text.js';

export type { Logger };
export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  format?: LogFormat;
  level?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Where lines go (default: stderr). Tests pass their own sink. */
  write?: (line: string) => void;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/**
 * One readable line per log record for people watching a terminal. Messages and fields carry
 * partner text (file names, server replies), escaped so a record stays one line (terminal-text.ts).
 */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const t = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 19) : '';
  const lvl = (LEVELS[rec.level as number] ?? String(rec.level)).padEnd(5);
  const fields = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${terminalSafe(k)}=${terminalSafe(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join(' ');
  return `${t} ${lvl} ${terminalSafe(String(rec.msg ?? ''))}${fields ? '  ' + fields : ''}\n`;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const format = opts.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const stream = {
    write(line: string) {
      const clean = redact(line);
      write(format === 'pretty' ? prettyLine(clean) : clean);
    },
  };
  return pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      // Secrets by path for objects that might be logged whole; message text is scrubbed above.
      redact: { paths: ['password', '*.password', 'privateKey', '*.privateKey', 'passphrase'], censor: '[REDACTED]' },
    },
    stream,
  );
}
