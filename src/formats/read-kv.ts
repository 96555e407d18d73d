/**
 * Reading one line of a kv (logfmt-style) file: `key=value` pairs joined by the separator.
 *
 * This is the inverse of the kv writer (encode.ts `kvLine`): a value is bare, or quoted with the
 * escapes the writer produces (`\\`, `\"`, `\n`, `\r`, `\t`, `\uXXXX`). NULL follows the writer,
 * which omits NULL pairs by default: a missing key and a bare `key=` are NULL, `key=""` is the
 * empty string.
 */
import type { FileProblem } from '../errors.js';
import type { ImportColumn } from './types.js';

const QUOTE = 0x22;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** The cells of one line in column order (null = NULL; no cells when the line is unreadable), and what was wrong with it. */
export interface ParsedLine {
  cells: (string | null)[] | null;
  problems: FileProblem[] | null;
}

export class KvLineParser {
  private readonly index = new Map<string, number>();

  constructor(
    private readonly columns: readonly ImportColumn[],
    private readonly separator: string,
  ) {
    columns.forEach((c, k) => this.index.set(c.key, k));
  }

  /** Parse one line (without its line ending). */
  parse(s: string, line: number): ParsedLine {
    const sep = this.separator;
    const n = s.length;
    const cells: (string | null)[] = new Array<string | null>(this.columns.length).fill(null);
    const seen: boolean[] = new Array<boolean>(this.columns.length).fill(false);
    let problems: FileProblem[] | null = null;
    const add = (p: FileProblem) => (problems ??= []).push(p);
    let i = 0;
    while (i < n) {
      if (s.startsWith(sep, i)) {
        // Repeated separators (aligned columns) are tolerated: they cannot be misread.
        i += sep.length;
        continue;
      }
      const eq = s.indexOf('=', i);
      const nextSep = s.indexOf(sep, i);
      if (eq === -1 || (nextSep !== -1 && nextSep < eq)) {
        const token = s.slice(i, nextSep === -1 ? n : nextSep);
        add({ line, message: `'${token.length > 40 ? `${token.slice(0, 40)}…` : token}' is not a key=value pair` });
        i = nextSep === -1 ? n : nextSep;
        continue;
      }
      const key = s.slice(i, eq);
      i = eq + 1;
      let value: string | null;
      if (i < n && s.charCodeAt(i) === QUOTE) {
        const q = this.quoted(s, i, line, key);
        if (q.problem) add(q.problem);
        if (q.end < 0) break; // an unclosed quote leaves nothing reliable on the rest of the line
        value = q.value;
        i = q.end;
        if (i < n && !s.startsWith(sep, i)) {
          add({ line, column: key, message: `unexpected text after the closing quote of '${key}'` });
          const skip = s.indexOf(sep, i);
          i = skip === -1 ? n : skip;
        }
      } else {
        const end = nextSep === -1 ? n : nextSep;
        // A bare `key=` is how the writer spells NULL when asked to write NULL pairs.
        value = end === i ? null : s.slice(i, end);
        i = end;
      }
      if (key === '') {
        add({ line, message: `a pair without a key ('=${value ?? ''}')` });
        continue;
      }
      const k = this.index.get(key);
      if (k === undefined) {
        add({ line, column: key, message: `unknown key '${key}' (the format has ${this.columns.map((c) => c.key).join(', ')})` });
        continue;
      }
      if (seen[k]) {
        add({ line, column: key, message: `key '${key}' appears more than once on the line` });
        continue;
      }
      seen[k] = true;
      cells[k] = value;
    }
    return { cells, problems };
  }

  /** A quoted value starting at the quote at `start`; `end` is the position after the closing quote (-1: unclosed). */
  private quoted(s: string, start: number, line: number, key: string): { value: string; end: number; problem: FileProblem | null } {
    let value = '';
    let j = start + 1;
    let problem: FileProblem | null = null;
    let backslash = s.indexOf('\\', j);
    for (;;) {
      const q = s.indexOf('"', j);
      if (q === -1) return { value, end: -1, problem: { line, column: key, message: `the quoted value of '${key}' has no closing quote` } };
      if (backslash !== -1 && backslash < j) backslash = s.indexOf('\\', j);
      if (backslash === -1 || backslash > q) {
        value += s.slice(j, q);
        return { value, end: q + 1, problem };
      }
      value += s.slice(j, backslash);
      const e = s[backslash + 1];
      j = backslash + 2;
      switch (e) {
        case '\\':
          value += '\\';
          break;
        case '"':
          value += '"';
          break;
        case 'n':
          value += '\n';
          break;
        case 'r':
          value += '\r';
          break;
        case 't':
          value += '\t';
          break;
        case 'u': {
          const hex = s.slice(j, j + 4);
          if (HEX4.test(hex)) {
            value += String.fromCharCode(parseInt(hex, 16));
            j += 4;
            break;
          }
          problem ??= { line, column: key, message: `'\\u${hex}' in the value of '${key}' is not a \\uXXXX escape` };
          break;
        }
        default:
          problem ??= { line, column: key, message: `unknown escape '\\${e ?? ''}' in the value of '${key}' (use \\\\, \\", \\n, \\r, \\t or \\uXXXX)` };
      }
    }
  }
}
