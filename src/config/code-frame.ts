/**
 * Where a config or job file failed to load, as a person wants to see it: `jobs/x.ts:4:3`, the
 * parser's reason, and the lines around the spot with a caret under it.
 *
 * jiti reports a syntax error as `ParseError: <reason>` followed by `<absolute path>:<line>:<column>`
 * with babel's 0-based column; runtime errors thrown while the module runs carry the same
 * `path:line:column` in their stack. Both are read from the text, since neither carries a
 * structured location.
 */
import { readFileSync } from 'node:fs';

export interface LoadFailure {
  /** One line: `<shown>:<line>:<col>: <reason>` or `<shown>: cannot be loaded: <reason>`. */
  headline: string;
  /** The source lines around the spot with a caret, when the spot is known. */
  frame?: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function describeLoadFailure(e: unknown, absFile: string, shown: string): LoadFailure {
  const message = e instanceof Error ? e.message : String(e);
  const firstLine = (message.split('\n')[0] ?? '').trim();
  const syntax = /^(?:ParseError|SyntaxError):\s*/.exec(firstLine);
  const reason = syntax ? firstLine.slice(syntax[0].length) : firstLine;
  const at = new RegExp(`${escape(absFile)}:(\\d+):(\\d+)`);
  const m = at.exec(message) ?? (syntax ? null : at.exec(e instanceof Error ? (e.stack ?? '') : ''));
  if (!m) return { headline: `${shown}: cannot be loaded: ${firstLine}` };
  const line = Number(m[1]);
  // jiti's parse errors count columns from 0; a stack trace counts from 1.
  const col = syntax ? Number(m[2]) + 1 : Number(m[2]);
  const kind = syntax ? 'syntax error' : 'error while loading';
  return { headline: `${shown}:${line}:${col}: ${kind}: ${reason}`, frame: codeFrame(absFile, line, col) };
}

/** Two lines of context either side, numbered, with `>` on the line and `^` under the column. */
export function codeFrame(file: string, line: number, col: number): string | undefined {
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').replace(/\r?\n$/, '').split(/\r?\n/);
  } catch {
    return undefined;
  }
  if (line < 1 || line > lines.length) return undefined;
  const from = Math.max(1, line - 2);
  const to = Math.min(lines.length, line + 2);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const text = (lines[n - 1] ?? '').replace(/\t/g, ' ');
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${text}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, col - 1))}^`);
  }
  return out.join('\n');
}
