/**
 * Named parameters (`:date`, `:from`, `:to`, …) in job SQL, turned into what each driver takes.
 *
 * Job authors write one SQL text with `:name` placeholders; drivers want `$1` (pg) or `?`
 * (better-sqlite3, mysql2). A plain regex would also rewrite `::casts`, `':x'` inside strings or
 * comments, so this is a small scanner that knows the lexical rules of each dialect well enough
 * to skip everything that is not SQL code.
 */
import { ConfigError } from '../errors.js';
import type { BindValue, Dialect } from './types.js';

/** SQL with driver placeholders and the values in placeholder order. */
export interface BoundSql {
  sql: string;
  values: BindValue[];
}

/** A `:name` occurrence found in code (not in a string, identifier or comment). */
interface Placeholder {
  name: string;
  /** Offset of the ':' in the SQL text. */
  start: number;
  /** Offset just after the name. */
  end: number;
}

const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentPart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);
/** PostgreSQL identifiers may contain `$`, so `a$b` is no dollar quote. */
const isPgIdentPart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_$]/.test(c);

/**
 * Find the end of a quoted span that starts at `i` (the opening quote), where a doubled quote is
 * an escaped quote and, when `backslash` is set, `\x` escapes any character (MySQL strings,
 * PostgreSQL E'…'). An unterminated span runs to the end: the database reports that error.
 */
function skipQuoted(sql: string, i: number, quote: string, backslash: boolean): number {
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j];
    if (backslash && c === '\\') {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (sql[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}

/** End of a block comment starting at `i`; PostgreSQL nests them, the others do not. */
function skipBlockComment(sql: string, i: number, nested: boolean): number {
  let depth = 0;
  let j = i;
  while (j < sql.length) {
    if (sql[j] === '/' && sql[j + 1] === '*') {
      if (depth === 0 || nested) depth++;
      j += 2;
    } else if (sql[j] === '*' && sql[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else {
      j++;
    }
  }
  return sql.length;
}

function skipLineComment(sql: string, i: number): number {
  const nl = sql.indexOf('\n', i);
  return nl < 0 ? sql.length : nl + 1;
}

/** If a PostgreSQL dollar quote (`$$` or `$tag$`) opens at `i`, the offset after its end. */
function skipDollarQuoted(sql: string, i: number): number | undefined {
  const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 200));
  if (!m) return undefined;
  const tag = m[0];
  const close = sql.indexOf(tag, i + tag.length);
  return close < 0 ? sql.length : close + tag.length;
}

/** Scan `sql` and list the `:name` placeholders that are real SQL code. */
function findPlaceholders(sql: string, dialect: Dialect): Placeholder[] {
  const found: Placeholder[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'") {
      // PostgreSQL E'…' strings take backslash escapes; standard strings do not (standard_conforming_strings).
      const escapeString = dialect === 'pg' && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !isIdentPart(sql[i - 2]);
      i = skipQuoted(sql, i, "'", dialect === 'mysql' || escapeString);
    } else if (c === '"') {
      // MySQL reads "…" as a string (unless ANSI_QUOTES); elsewhere a quoted identifier.
      i = skipQuoted(sql, i, '"', dialect === 'mysql');
    } else if (c === '`' && dialect !== 'pg') {
      i = skipQuoted(sql, i, '`', false);
    } else if (c === '[' && dialect === 'sqlite') {
      // SQLite accepts [bracketed identifiers] for MS Access compatibility.
      const close = sql.indexOf(']', i + 1);
      i = close < 0 ? sql.length : close + 1;
    } else if (c === '-' && next === '-') {
      i = skipLineComment(sql, i);
    } else if (c === '#' && dialect === 'mysql') {
      i = skipLineComment(sql, i);
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(sql, i, dialect === 'pg');
    } else if (c === '$' && dialect === 'pg' && !isPgIdentPart(sql[i - 1])) {
      i = skipDollarQuoted(sql, i) ?? i + 1;
    } else if (c === ':' && next === ':') {
      // A PostgreSQL cast `x::date`: neither colon starts a parameter.
      i += 2;
    } else if (c === ':' && isIdentStart(next)) {
      let j = i + 2;
      while (isIdentPart(sql[j])) j++;
      found.push({ name: sql.slice(i + 1, j), start: i, end: j });
      i = j;
    } else {
      i++;
    }
  }
  return found;
}

function unknownNames(found: Placeholder[], params: Record<string, BindValue>): ConfigError | undefined {
  const known = Object.keys(params);
  const unknown = [...new Set(found.map((p) => p.name).filter((n) => !Object.hasOwn(params, n)))];
  if (unknown.length === 0) return undefined;
  const list = known.length > 0 ? known.map((n) => `:${n}`).join(', ') : '(none)';
  return new ConfigError(unknown.map((n) => `source.sql: unknown parameter :${n}; bound parameters are ${list}`));
}

/**
 * Replace `:name` placeholders by driver placeholders: `$1…$n` for PostgreSQL (a repeated name
 * reuses its number), `?` for SQLite and MySQL (a repeated name repeats its value).
 * Strings, quoted identifiers, comments, dollar quotes and `::casts` are left alone.
 *
 * @throws ConfigError listing every unknown name and the names that are available.
 */
export function bindNamed(sql: string, params: Record<string, BindValue>, dialect: Dialect): BoundSql {
  const found = findPlaceholders(sql, dialect);
  const err = unknownNames(found, params);
  if (err) throw err;
  const values: BindValue[] = [];
  const pgIndex = new Map<string, number>();
  let out = '';
  let last = 0;
  for (const p of found) {
    out += sql.slice(last, p.start);
    const value = params[p.name]!;
    if (dialect === 'pg') {
      let n = pgIndex.get(p.name);
      if (n === undefined) {
        values.push(value);
        n = values.length;
        pgIndex.set(p.name, n);
      }
      out += `$${n}`;
    } else {
      values.push(value);
      out += '?';
    }
    last = p.end;
  }
  return { sql: out + sql.slice(last), values };
}

/**
 * Render a bind value as an SQL literal. Strings become standard literals with `'` doubled
 * (MySQL also needs `\` doubled, since it reads backslash escapes by default); negative numbers are
 * parenthesised so `a -:n` cannot turn into a `--` comment.
 */
export function sqlLiteral(value: BindValue, dialect: Dialect): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ConfigError([`source.sql: cannot inline the number ${value}`]);
    const text = String(value);
    return value < 0 ? `(${text})` : text;
  }
  if (value.includes('\0')) throw new ConfigError(['source.sql: a parameter value contains a NUL character']);
  let body = value.replace(/'/g, "''");
  if (dialect === 'mysql') body = body.replace(/\\/g, '\\\\');
  return `'${body}'`;
}

/**
 * Like {@link bindNamed}, but substitute SQL literals for the placeholders. For statements that
 * take no bind parameters, such as PostgreSQL `COPY (…) TO STDOUT`.
 * The PostgreSQL session must have `standard_conforming_strings = on` (the default since 9.1).
 */
export function inlineNamed(sql: string, params: Record<string, BindValue>, dialect: Dialect): string {
  const found = findPlaceholders(sql, dialect);
  const err = unknownNames(found, params);
  if (err) throw err;
  let out = '';
  let last = 0;
  for (const p of found) {
    out += sql.slice(last, p.start) + sqlLiteral(params[p.name]!, dialect);
    last = p.end;
  }
  return out + sql.slice(last);
}
