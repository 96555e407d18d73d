/**
 * Reading one line of a JSON Lines file: one flat object per line.
 *
 * Numbers must stay exact: `JSON.parse` turns `12345678901234567890.123` into a float before any
 * reviver sees it, and Node 20's reviver has no access to the source text. So the line is read by
 * a small scanner that walks the object and keeps every number literal as its text (a decimal
 * column gets `1234.50`, not 1234.5). Strings are unescaped by `JSON.parse` on just the string
 * token when it holds an escape, so the JSON string rules are the native ones. When the scanner
 * finds the line malformed, `JSON.parse` of the whole line supplies the error message.
 */
import type { FileProblem } from '../errors.js';
import { roundDecimal } from './decimal.js';
import { isWellFormed, loneSurrogateEscape, type ParsedLine } from './read-kv.js';
import type { ImportColumn } from './types.js';

/** JSON number grammar, anchored at the scan position. */
const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** A number literal with an exponent, split for exact expansion. */
const EXPONENT_RE = /^-?\d+(?:\.(\d+))?[eE]([+-]?\d+)$/;
/** String tokens that need JSON.parse: escapes or raw control characters (invalid, let it say so). */
// eslint-disable-next-line no-control-regex -- raw control characters are exactly what must be caught
const NEEDS_PARSE = /[\\\x00-\x1f]/;

/** Thrown inside the scanner when the line is not a well-formed JSON object. */
class Malformed extends Error {}

type Kind = 'string' | 'number' | 'bool' | 'null' | 'object' | 'array';

/** Whitespace JSON allows between tokens. */
function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Plain decimal text of a number literal with an exponent, exactly: '1.5e3' → '1500', '1e-7' →
 * '0.0000001'. Done on the digits (decimal.ts), never through a float.
 */
export function expandExponent(text: string): string {
  const m = EXPONENT_RE.exec(text);
  if (!m) return text;
  const places = Math.max(0, (m[1]?.length ?? 0) - Number(m[2]));
  return roundDecimal(text, places);
}

export class JsonlLineParser {
  private readonly index = new Map<string, number>();
  private s = '';
  private i = 0;
  /** The lone-surrogate escape in the string token just read ('' when it had none). */
  private lone = '';

  constructor(private readonly columns: readonly ImportColumn[]) {
    columns.forEach((c, k) => this.index.set(c.key, k));
  }

  /** Parse one line (without its line ending). */
  parse(s: string, line: number): ParsedLine {
    const cells: (string | null)[] = new Array<string | null>(this.columns.length).fill(null);
    let problems: FileProblem[] | null = null;
    const add = (p: FileProblem) => (problems ??= []).push(p);
    this.s = s;
    this.i = 0;
    try {
      const seen: boolean[] = new Array<boolean>(this.columns.length).fill(false);
      this.ws();
      if (s.charCodeAt(this.i) !== 0x7b /* { */) throw new Malformed();
      this.i++;
      this.ws();
      if (s.charCodeAt(this.i) === 0x7d /* } */) this.i++;
      else {
        for (;;) {
          if (s.charCodeAt(this.i) !== 0x22) throw new Malformed();
          const key = this.string();
          const keyLone = this.lone;
          this.ws();
          if (s.charCodeAt(this.i) !== 0x3a /* : */) throw new Malformed();
          this.i++;
          this.ws();
          this.lone = '';
          const [kind, text] = this.value();
          const k = this.index.get(key);
          if (keyLone !== '') {
            add({ line, message: `a key has the escape ${keyLone}, a lone UTF-16 surrogate, which is no character` });
          } else if (kind === 'string' && this.lone !== '') {
            // JSON allows "\ud800" alone; it is no character, and a database would store it as
            // invalid UTF-8 (or reject the whole load).
            add({ line, column: key, message: `the value of '${key}' has the escape ${this.lone}, a lone UTF-16 surrogate, which is no character` });
          } else if (k === undefined) {
            add({ line, column: key, message: `unknown key '${key}' (the format has ${this.columns.map((c) => c.key).join(', ')})` });
          } else if (seen[k]) {
            add({ line, column: key, message: `key '${key}' appears more than once in the object` });
          } else {
            seen[k] = true;
            const cell = this.cell(this.columns[k]!, kind, text);
            if (typeof cell === 'string' || cell === null) cells[k] = cell;
            else add({ line, column: key, message: cell.message });
          }
          this.ws();
          const c = s.charCodeAt(this.i);
          this.i++;
          if (c === 0x2c /* , */) {
            this.ws();
            continue;
          }
          if (c === 0x7d) break;
          throw new Malformed();
        }
      }
      this.ws();
      if (this.i !== s.length) throw new Malformed();
    } catch (e) {
      if (!(e instanceof Malformed)) throw e;
      return { cells: null, problems: [{ line, message: malformedMessage(s) }] };
    }
    return { cells, problems };
  }

  /** The cell text for a column from a JSON value, or a problem message. */
  private cell(col: ImportColumn, kind: Kind, text: string): string | null | { message: string } {
    switch (kind) {
      case 'null':
        return null;
      case 'object':
      case 'array':
        return { message: `expected a ${col.type} value, found a JSON ${kind}` };
      case 'number':
        if (col.type === 'decimal' && (text.includes('e') || text.includes('E'))) {
          // A JSON number may use an exponent; expand it exactly into the Decimal's plain text.
          try {
            return expandExponent(text);
          } catch {
            return { message: `${text} is out of the range ferry reads exactly` };
          }
        }
        return text;
      default:
        return text;
    }
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length && isWs(s.charCodeAt(this.i))) this.i++;
  }

  /** The string token at `i` (which is a '"'), unescaped; moves past it. */
  private string(): string {
    const s = this.s;
    const start = this.i;
    let j = start + 1;
    for (;;) {
      const k = s.indexOf('"', j);
      if (k === -1) throw new Malformed();
      // A quote preceded by an odd number of backslashes is escaped.
      let b = k - 1;
      while (b > start && s.charCodeAt(b) === 0x5c) b--;
      if ((k - 1 - b) % 2 === 1) {
        j = k + 1;
        continue;
      }
      this.i = k + 1;
      this.lone = '';
      const inner = s.slice(start + 1, k);
      if (!NEEDS_PARSE.test(inner)) return inner;
      let v: string;
      try {
        v = JSON.parse(s.slice(start, k + 1)) as string;
      } catch {
        throw new Malformed();
      }
      if (!isWellFormed(v)) this.lone = loneSurrogateEscape(v);
      return v;
    }
  }

  /** The value at `i`: its kind and, for scalars, its text (numbers exactly as written). */
  private value(): [Kind, string] {
    const s = this.s;
    const c = s.charCodeAt(this.i);
    if (c === 0x22) return ['string', this.string()];
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER_RE.lastIndex = this.i;
      const m = NUMBER_RE.exec(s);
      if (!m) throw new Malformed();
      this.i += m[0].length;
      return ['number', m[0]];
    }
    if (s.startsWith('true', this.i)) {
      this.i += 4;
      return ['bool', 'true'];
    }
    if (s.startsWith('false', this.i)) {
      this.i += 5;
      return ['bool', 'false'];
    }
    if (s.startsWith('null', this.i)) {
      this.i += 4;
      return ['null', ''];
    }
    if (c === 0x7b || c === 0x5b) return [c === 0x7b ? 'object' : 'array', this.nested()];
    throw new Malformed();
  }

  /** Skip a nested object or array (validated by JSON.parse); returns its text. */
  private nested(): string {
    const s = this.s;
    const start = this.i;
    let depth = 0;
    let j = start;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (c === 0x22) {
        this.i = j;
        this.string();
        j = this.i;
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) {
          const text = s.slice(start, j + 1);
          try {
            JSON.parse(text);
          } catch {
            throw new Malformed();
          }
          this.i = j + 1;
          return text;
        }
      }
      j++;
    }
    throw new Malformed();
  }
}

/** Why a line is not a JSON object, in JSON.parse's words when it is not JSON at all. */
function malformedMessage(s: string): string {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    return `invalid JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
  const what = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
  return `expected a JSON object on each line, found ${what}`;
}
