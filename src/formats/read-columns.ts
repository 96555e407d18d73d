/**
 * Resolving an import job's `format.columns` (and checking the rest of its format options) before
 * a received file is opened, so every mistake in the job is reported at once with the path of the
 * option, instead of surfacing as a confusing rejection of a partner's file later.
 */
import { ConfigError } from '../errors.js';
import type { ColumnType, ImportColumnSpec, ImportFormatSpec } from '../types.js';
import { encodingSupported } from './charset.js';
import { parseTrailer } from './trailer.js';
import type { ImportColumn } from './types.js';

const COLUMN_TYPES: readonly ColumnType[] = ['string', 'int', 'decimal', 'float', 'bool', 'date', 'timestamp', 'timestamptz'];
const SPEC_KEYS = new Set(['type', 'as', 'format', 'nullable']);
const DATE_TYPES = new Set<string>(['date', 'timestamp', 'timestamptz']);
/** A kv key is read up to the first '='; whitespace, quotes and backslashes would make it ambiguous. */
const KV_KEY_RE = /^[^\s="\\]+$/;
/**
 * JavaScript orders integer-like object keys ('1', '42') before all others, whatever order the job
 * file wrote them in, so such keys cannot describe the field order of a headerless csv.
 */
const INDEX_KEY_RE = /^(?:0|[1-9]\d*)$/;

/** `'x'` for messages, other values as JSON. */
function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Problems with the format options that are not about single columns. */
function formatProblems(spec: ImportFormatSpec): string[] {
  const problems: string[] = [];
  const type = (spec as { type?: unknown }).type;
  if (type !== 'csv' && type !== 'kv' && type !== 'jsonl') {
    problems.push(`format.type: ${show(type)} is not a format (use 'csv', 'kv' or 'jsonl')`);
  }
  if (spec.encoding !== undefined && (typeof spec.encoding !== 'string' || !encodingSupported(spec.encoding))) {
    problems.push(`format.encoding: ${show(spec.encoding)} is not an encoding ferry knows (e.g. 'utf-8', 'euc-kr', 'cp949')`);
  }
  if (spec.type === 'csv') {
    const d = spec.delimiter;
    if (d !== undefined && (typeof d !== 'string' || d.length !== 1 || d === '"' || d === '\r' || d === '\n')) {
      problems.push(`format.delimiter: ${show(d)} must be exactly one character other than '"', CR and LF`);
    }
    if (spec.header !== undefined && typeof spec.header !== 'boolean') problems.push('format.header: expected true or false');
    const nt = spec.nullText;
    if (nt !== undefined && typeof nt !== 'string') problems.push(`format.nullText: ${show(nt)} must be a string`);
    else if (nt !== undefined && /["\r\n]/.test(nt)) problems.push(`format.nullText: ${show(nt)} must not contain '"', CR or LF`);
    else if (nt && typeof d === 'string' && d.length === 1 && nt.includes(d)) {
      problems.push(`format.nullText: ${show(nt)} must not contain the delimiter`);
    }
  }
  const m = spec.maxRecordBytes;
  if (m !== undefined && (typeof m !== 'number' || !Number.isSafeInteger(m) || m <= 0)) {
    problems.push(`format.maxRecordBytes: ${show(m)} must be a whole number of bytes above 0`);
  }
  if (spec.type === 'kv' && spec.separator !== undefined) {
    const s = spec.separator as unknown;
    if (typeof s !== 'string' || s === '' || /["=\\\r\n]/.test(s)) {
      problems.push(`format.separator: ${show(s)} must be a non-empty string without '"', '=', '\\', CR or LF`);
    }
  }
  if (spec.trailer !== undefined) {
    if (typeof spec.trailer !== 'string' || spec.trailer === '') {
      problems.push(`format.trailer: expected a template such as 'TRAILER|{count}|{sum:amount}', not ${show(spec.trailer)}`);
    } else problems.push(...parseTrailer(spec.trailer).problems);
  }
  return problems;
}

/** Check one `format.columns` entry; returns the resolved column or null when it is unusable. */
function resolveOne(spec: ImportFormatSpec, key: string, entry: unknown, problems: string[]): ImportColumn | null {
  const path = `format.columns.${key}`;
  if (key === '') {
    problems.push(`format.columns: a column name must not be empty`);
    return null;
  }
  let colSpec: ImportColumnSpec;
  if (typeof entry === 'string') colSpec = { type: entry as ColumnType };
  else if (isPlainObject(entry)) colSpec = entry as unknown as ImportColumnSpec;
  else {
    problems.push(`${path}: expected a type name such as 'decimal' or { type, as, format, nullable }, not ${show(entry)}`);
    return null;
  }
  let ok = true;
  for (const k of Object.keys(colSpec)) {
    if (!SPEC_KEYS.has(k)) {
      problems.push(`${path}: unknown option '${k}' (known: ${[...SPEC_KEYS].join(', ')})`);
      ok = false;
    }
  }
  const type = colSpec.type as unknown;
  if (typeof type !== 'string' || !COLUMN_TYPES.includes(type as ColumnType)) {
    problems.push(`${path}: unknown type ${show(type)} (use ${COLUMN_TYPES.join(', ')})`);
    ok = false;
  }
  if (colSpec.as !== undefined && (typeof colSpec.as !== 'string' || colSpec.as === '')) {
    problems.push(`${path}: 'as' must be a non-empty database column name`);
    ok = false;
  }
  if (colSpec.format !== undefined) {
    if (typeof colSpec.format !== 'string' || colSpec.format === '') {
      problems.push(`${path}: 'format' must be a non-empty luxon format such as 'yyyyMMdd'`);
      ok = false;
    } else if (typeof type === 'string' && !DATE_TYPES.has(type)) {
      problems.push(`${path}: 'format' applies only to date, timestamp and timestamptz columns; '${key}' is ${type}`);
      ok = false;
    }
  }
  if (colSpec.nullable !== undefined && typeof colSpec.nullable !== 'boolean') {
    problems.push(`${path}: 'nullable' must be true or false`);
    ok = false;
  }
  if (spec.type === 'kv') {
    const sep = typeof spec.separator === 'string' && spec.separator !== '' ? spec.separator : ' ';
    if (!KV_KEY_RE.test(key) || key.includes(sep)) {
      problems.push(`${path}: '${key}' cannot be read as a kv key (no whitespace, '=', '"', '\\' or the separator)`);
      ok = false;
    }
  }
  if (!ok) return null;
  const col: ImportColumn = {
    key,
    target: colSpec.as ?? key,
    type: type as ColumnType,
    nullable: colSpec.nullable === true,
  };
  if (colSpec.format !== undefined) col.format = colSpec.format;
  return col;
}

/**
 * Resolve an import format's `columns` (`{ name: 'decimal' }` or `{ name: { type, as, format,
 * nullable } }`) into {@link ImportColumn}s, in the order the job lists them (the field order of a
 * headerless csv). `target` defaults to the file's name; `nullable` defaults to false.
 *
 * Also checks the format options a reader depends on (type, encoding, delimiter, nullText,
 * maxRecordBytes, kv separator and keys, trailer placeholders and the columns `{sum:…}` names).
 *
 * @throws ConfigError listing every problem, e.g. `format.columns.amount: unknown type 'money' (use …)`.
 */
export function resolveImportColumns(spec: ImportFormatSpec): ImportColumn[] {
  if (!isPlainObject(spec)) throw new ConfigError([`format: expected { type: 'csv' | 'kv' | 'jsonl', columns: { … } }`]);
  const problems = formatProblems(spec);
  const columns: ImportColumn[] = [];
  const raw = spec.columns as unknown;
  if (!isPlainObject(raw) || Object.keys(raw).length === 0) {
    problems.push(`format.columns: expected at least one column, e.g. { settlement_id: 'string', amount: 'decimal' }`);
  } else {
    const targets = new Map<string, string>();
    const headerless = spec.type === 'csv' && spec.header === false;
    for (const [key, entry] of Object.entries(raw)) {
      if (headerless && INDEX_KEY_RE.test(key)) {
        problems.push(
          `format.columns.${key}: a headerless csv is read in the order the columns are listed, but JavaScript ` +
            `moves number-like keys such as '${key}' to the front; name the column (e.g. 'col_${key}') and use 'as'`,
        );
      }
      const col = resolveOne(spec, key, entry, problems);
      if (!col) continue;
      const earlier = targets.get(col.target);
      if (earlier !== undefined) {
        problems.push(`format.columns.${key}: loads into '${col.target}', like format.columns.${earlier}; each database column can be loaded once`);
      } else targets.set(col.target, key);
      columns.push(col);
    }
    if (typeof spec.trailer === 'string') {
      for (const part of parseTrailer(spec.trailer).parts) {
        if (part.kind === 'sum' && findImportColumn(columns, part.column) < 0) {
          problems.push(`format.trailer: {sum:${part.column}} names no column (the file has ${columns.map((c) => c.key).join(', ')})`);
        }
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return columns;
}

/** The column a `{sum:…}` placeholder names: by its name in the file first, then by target. */
export function findImportColumn(columns: readonly ImportColumn[], name: string): number {
  const byKey = columns.findIndex((c) => c.key === name);
  return byKey >= 0 ? byKey : columns.findIndex((c) => c.target === name);
}
