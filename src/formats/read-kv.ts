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
/** Problems reported for one line at most: the line is rejected either way. */
const MAX_LINE_PROBLEMS = 20;

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

  /**
   * Parse one line (without its line ending). Linear in the line's length: the next '=' and
   * separator are looked up again only once the scan has passed them, never from every pair.
   */
  parse(s: string, line: number): ParsedLine {
    const sep = this.separator;
    const n = s.length;
    const cells: (string | null)[] = new Array<string | null>(this.columns.length).fill(null);
    const seen: boolean[] = new Array<boolean>(this.columns.length).fill(false);
    let problems: FileProblem[] | null = null;
    const add = (p: FileProblem) => (problems ??= []).push(p);
    let eq = -2;
    let nextSep = -2;
    let i = 0;
    while (i < n) {
      // A line that is nothing but bad tokens would otherwise collect one problem per token.
      if (problems !== null && (problems as FileProblem[]).length >= MAX_LINE_PROBLEMS) break;
      if (s.startsWith(sep, i)) {
        // Repeated separators (aligned columns) are tolerated: they cannot be misread.
        i += sep.length;
        continue;
      }
      if (eq !== -1 && eq < i) eq = s.indexOf('=', i);
      if (nextSep !== -1 && nextSep < i) nextSep = s.indexOf(sep, i);
      if (eq === -1 || (nextSep !== -1 && nextSep < eq)) {
        const token = s.slice(i, Math.min(nextSep === -1 ? n : nextSep, i + 41));
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
          if (nextSep !== -1 && nextSep < i) nextSep = s.indexOf(sep, i);
          i = nextSep === -1 ? n : nextSep;
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

  /**
   * A quoted value starting at the quote at `start`; `end` is the position after the closing quote
   * (-1: unclosed). The next quote and backslash are each looked up once per occurrence, and the
   * value is built from slices joined once, so a long value with many escapes stays linear.
   */
  private quoted(s: string, start: number, line: number, key: string): { value: string; end: number; problem: FileProblem | null } {
    const parts: string[] = [];
    let j = start + 1;
    let problem: FileProblem | null = null;
    let backslash = s.indexOf('\\', j);
    let q = s.indexOf('"', j);
    let escapedU = false;
    for (;;) {
      if (q !== -1 && q < j) q = s.indexOf('"', j);
      if (q === -1) return { value: '', end: -1, problem: { line, column: key, message: `the quoted value of '${key}' has no closing quote` } };
      if (backslash !== -1 && backslash < j) backslash = s.indexOf('\\', j);
      if (backslash === -1 || backslash > q) {
        parts.push(s.slice(j, q));
        const value = parts.length === 1 ? parts[0]! : parts.join('');
        // A \uXXXX escape can spell half of a surrogate pair; alone it is no character, and a
        // database would store it as invalid UTF-8 (or reject the whole load).
        if (escapedU && problem === null && !isWellFormed(value)) {
          problem = { line, column: key, message: `the value of '${key}' has a \\u escape of a lone UTF-16 surrogate (${loneSurrogateEscape(value)}), which is no character` };
        }
        return { value, end: q + 1, problem };
      }
      parts.push(s.slice(j, backslash));
      const e = s[backslash + 1];
      j = backslash + 2;
      switch (e) {
        case '\\':
          parts.push('\\');
          break;
        case '"':
          parts.push('"');
          break;
        case 'n':
          parts.push('\n');
          break;
        case 'r':
          parts.push('\r');
          break;
        case 't':
          parts.push('\t');
          break;
        case 'u': {
          const hex = s.slice(j, j + 4);
          if (HEX4.test(hex)) {
            parts.push(String.fromCharCode(parseInt(hex, 16)));
            escapedU = true;
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

/** Node 20 has `String.prototype.isWellFormed`; the ES2023 lib typings do not declare it yet. */
export const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** The first lone surrogate of a string that is not well formed, spelled as the escape: '\ud800'. */
export function loneSurrogateEscape(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    return `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return '';
}
