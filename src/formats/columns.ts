/**
 * Matching `format.columns` against the columns a query returns, and validating the rest of the
 * format options, so that every mistake in a job's format is reported at once, before any row is
 * read, with the path of the offending option.
 */
import { ConfigError } from '../errors.js';
import type { ColumnSpec, ColumnType, FormatSpec } from '../types.js';
import type { SourceColumn } from '../values.js';
import { encodingSupported } from './charset.js';
import { findSumColumn, parseTrailer, trailerTemplate } from './trailer.js';
import type { ResolvedColumn } from './types.js';

const COLUMN_TYPES: readonly ColumnType[] = ['string', 'int', 'decimal', 'float', 'bool', 'date', 'timestamp', 'timestamptz'];
const SPEC_KEYS = new Set(['name', 'as', 'type', 'format', 'decimals', 'nullText', 'bool']);
const DATE_TYPES = new Set(['date', 'timestamp', 'timestamptz']);
/** Types whose values are never numbers, so `decimals` on them is a mistake. */
const NON_NUMERIC_TYPES = new Set(['date', 'timestamp', 'timestamptz', 'bool', 'bytes']);
/** A kv key must be readable back unambiguously: no whitespace, '=', '"' or '\'. */
const KV_KEY_RE = /^[^\s="\\]+$/;

/** `'x'` for messages, showing other types as they are. */
function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

/** Problems with the options of the format itself (not its columns). */
function formatProblems(spec: FormatSpec): string[] {
  const problems: string[] = [];
  const type = (spec as { type?: unknown }).type;
  if (type !== 'csv' && type !== 'kv' && type !== 'jsonl') {
    problems.push(`format.type: ${show(type)} is not a format (use 'csv', 'kv' or 'jsonl')`);
  }
  if (spec.lineEnding !== undefined && spec.lineEnding !== 'lf' && spec.lineEnding !== 'crlf') {
    problems.push(`format.lineEnding: ${show(spec.lineEnding)} is not 'lf' or 'crlf'`);
  }
  if (spec.encoding !== undefined && (typeof spec.encoding !== 'string' || !encodingSupported(spec.encoding))) {
    problems.push(`format.encoding: ${show(spec.encoding)} is not an encoding ferry knows (e.g. 'utf-8', 'utf-8-bom', 'euc-kr', 'cp949')`);
  }
  if (spec.type === 'csv') {
    const d = spec.delimiter;
    if (d !== undefined && (typeof d !== 'string' || d.length !== 1 || d === '"' || d === '\r' || d === '\n')) {
      problems.push(`format.delimiter: ${show(d)} must be exactly one character other than '"', CR and LF`);
    }
    if (spec.nullText !== undefined && typeof spec.nullText !== 'string') {
      problems.push(`format.nullText: ${show(spec.nullText)} must be a string`);
    } else if (spec.nullText !== undefined && /["\r\n]/.test(spec.nullText)) {
      problems.push(`format.nullText: ${show(spec.nullText)} must not contain '"', CR or LF`);
    } else if (spec.nullText && typeof d === 'string' && d.length === 1 && spec.nullText.includes(d)) {
      // A null text containing the delimiter would be read back as two fields.
      problems.push(`format.nullText: ${show(spec.nullText)} must not contain the delimiter`);
    }
  }
  if (spec.type === 'kv') {
    if (spec.separator !== undefined && (typeof spec.separator !== 'string' || spec.separator === '')) {
      problems.push(`format.separator: ${show(spec.separator)} must be a non-empty string`);
    }
    if (spec.nulls !== undefined && spec.nulls !== 'omit' && spec.nulls !== 'empty') {
      problems.push(`format.nulls: ${show(spec.nulls)} is not 'omit' or 'empty'`);
    }
    if (spec.nullText !== undefined && typeof spec.nullText !== 'string') {
      problems.push(`format.nullText: ${show(spec.nullText)} must be a string`);
    }
  }
  const template = trailerTemplate(spec);
  if (template === '' && spec.trailer !== '') {
    problems.push(`format.trailer: must be a string or { template: string }`);
  } else if (template !== undefined) {
    problems.push(...parseTrailer(template).problems);
  }
  return problems;
}

/** Check the per-column options of a ColumnSpec, pushing problems under `path`. */
function optionProblems(spec: ColumnSpec, type: string, path: string, problems: string[]): void {
  for (const k of Object.keys(spec)) {
    if (!SPEC_KEYS.has(k)) problems.push(`${path}: unknown option '${k}' (known: ${[...SPEC_KEYS].join(', ')})`);
  }
  if (spec.as !== undefined && (typeof spec.as !== 'string' || spec.as === '')) {
    problems.push(`${path}: 'as' must be a non-empty string`);
  }
  const d = spec.decimals;
  if (d !== undefined) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 30) {
      problems.push(`${path}: 'decimals' must be a whole number from 0 to 30, not ${show(d)}`);
    } else if (NON_NUMERIC_TYPES.has(type)) {
      problems.push(`${path}: 'decimals' applies to numbers; column '${spec.name}' is ${type}`);
    }
  }
  if (spec.format !== undefined) {
    if (typeof spec.format !== 'string' || spec.format === '') {
      problems.push(`${path}: 'format' must be a non-empty luxon format string`);
    } else if (!DATE_TYPES.has(type)) {
      problems.push(
        `${path}: 'format' applies only to date and timestamp columns; column '${spec.name}' is ${type}` +
          ` (add type: 'date' or 'timestamp' if it holds dates)`,
      );
    }
  }
  const b = spec.bool as unknown;
  if (b !== undefined) {
    if (!Array.isArray(b) || b.length !== 2 || typeof b[0] !== 'string' || typeof b[1] !== 'string') {
      problems.push(`${path}: 'bool' must be a pair of strings like ['Y', 'N'], not ${show(b)}`);
    } else if (type !== 'bool' && type !== 'unknown') {
      problems.push(`${path}: 'bool' applies to booleans; column '${spec.name}' is ${type} (add type: 'bool' if it holds 0/1)`);
    }
  }
  if (spec.nullText !== undefined && typeof spec.nullText !== 'string') {
    problems.push(`${path}: 'nullText' must be a string`);
  }
}

/**
 * Match `spec.columns` (names or ColumnSpec objects) against the query's columns, in the order the
 * spec lists them; without `spec.columns`, every source column in query order under its own name.
 * The resolved type is the declared type, else the type the database reported.
 *
 * Also validates the format options that depend on columns or that would otherwise fail mid-file
 * (delimiter, kv keys, duplicate keys, `decimals`, `format`, `bool`, encoding, trailer
 * placeholders) and collects every problem before throwing.
 *
 * @throws ConfigError listing every problem, e.g.
 *   `format.columns[2]: column 'amout' is not in the query result (it returns id, customer, amount)`.
 */
export function resolveColumns(spec: FormatSpec, source: SourceColumn[]): ResolvedColumn[] {
  const problems = formatProblems(spec);
  const resolved: ResolvedColumn[] = [];
  const listing = source.map((c) => c.name).join(', ') || 'no columns';
  const sourceIndex = new Map<string, number>();
  source.forEach((c, i) => {
    if (!sourceIndex.has(c.name)) sourceIndex.set(c.name, i);
  });
  const keyPaths = new Map<string, string>();

  if (spec.columns === undefined) {
    source.forEach((c, i) => resolved.push({ source: c.name, index: i, key: c.name, type: c.type }));
  } else if (!Array.isArray(spec.columns)) {
    problems.push(`format.columns: must be a list of column names or { name, … } objects`);
  } else {
    spec.columns.forEach((entry, i) => {
      const path = `format.columns[${i}]`;
      const colSpec: ColumnSpec | null =
        typeof entry === 'string' ? { name: entry } : entry && typeof entry === 'object' ? entry : null;
      if (!colSpec || typeof colSpec.name !== 'string' || colSpec.name === '') {
        problems.push(`${path}: must be a column name or an object with a 'name'`);
        return;
      }
      const index = sourceIndex.get(colSpec.name);
      if (index === undefined) {
        problems.push(`${path}: column '${colSpec.name}' is not in the query result (it returns ${listing})`);
      }
      let type: string = index === undefined ? 'unknown' : source[index]!.type;
      if (colSpec.type !== undefined) {
        if (COLUMN_TYPES.includes(colSpec.type)) type = colSpec.type;
        else problems.push(`${path}: unknown type ${show(colSpec.type)} (use ${COLUMN_TYPES.join(', ')})`);
      }
      optionProblems(colSpec, type, path, problems);
      const col: ResolvedColumn = {
        source: colSpec.name,
        index: index ?? -1,
        key: typeof colSpec.as === 'string' && colSpec.as !== '' ? colSpec.as : colSpec.name,
        type: type as ResolvedColumn['type'],
      };
      if (typeof colSpec.format === 'string') col.format = colSpec.format;
      if (typeof colSpec.decimals === 'number') col.decimals = colSpec.decimals;
      if (typeof colSpec.nullText === 'string') col.nullText = colSpec.nullText;
      if (Array.isArray(colSpec.bool)) col.bool = [colSpec.bool[0], colSpec.bool[1]];
      resolved.push(col);
    });
  }

  resolved.forEach((col, i) => {
    const path = spec.columns === undefined ? 'format.columns' : `format.columns[${i}]`;
    const earlier = keyPaths.get(col.key);
    if (earlier !== undefined) {
      problems.push(
        spec.columns === undefined
          ? `${path}: the query returns more than one column named '${col.key}'; list the columns with 'as' to rename one`
          : `${path}: key '${col.key}' is already used by ${earlier}; use 'as' to give it another name`,
      );
    } else keyPaths.set(col.key, path === 'format.columns' ? `column ${i}` : path);
    if (spec.type === 'kv' && !KV_KEY_RE.test(col.key)) {
      problems.push(`${path}: '${col.key}' cannot be a kv key (no spaces, '=', '"' or '\\'); use 'as' to rename it`);
    }
  });
  if (Array.isArray(spec.columns) && spec.columns.length === 0) problems.push('format.columns: the list is empty');
  if (spec.columns === undefined && source.length === 0) problems.push('format.columns: the query returns no columns');

  const template = trailerTemplate(spec);
  if (template) {
    for (const part of parseTrailer(template).parts) {
      if (part.kind === 'sum' && findSumColumn(resolved, part.column) < 0) {
        problems.push(`format.trailer: {sum:${part.column}} names no output column (the file has ${resolved.map((c) => c.key).join(', ')})`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}
