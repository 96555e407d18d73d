/** Rules for export job definitions (`jobs/*.ts`). */
import { CronExpressionParser } from 'cron-parser';
import { checkNameRule } from '../core/naming.js';
import { encodingSupported } from '../formats/charset.js';
import type { ResolvedConfig } from './load.js';
import { describeValue, isPlainObject, oneOf, optionalPositiveInt, optionalString, Problems, requiredString, unknownKeys } from './validate.js';

const JOB_KEYS = ['kind', 'description', 'schedule', 'businessDate', 'source', 'format', 'file', 'whenEmpty', 'deliver', 'maxAttempts'];
const COLUMN_TYPES = ['string', 'int', 'decimal', 'float', 'bool', 'date', 'timestamp', 'timestamptz'] as const;
const FORMAT_KEYS: Record<string, string[]> = {
  csv: ['type', 'columns', 'lineEnding', 'encoding', 'trailer', 'delimiter', 'header', 'nullText', 'quoteAll'],
  kv: ['type', 'columns', 'lineEnding', 'encoding', 'trailer', 'separator', 'nulls', 'nullText'],
  jsonl: ['type', 'columns', 'lineEnding', 'encoding', 'trailer'],
};

export function checkSchedule(expr: string): string | undefined {
  if (expr.trim().split(/\s+/).length !== 5) {
    return `'${expr}' is not a cron expression of 5 fields (minute hour day-of-month month day-of-week), e.g. '0 6 * * *'`;
  }
  try {
    CronExpressionParser.parse(expr, { tz: 'UTC' });
    return undefined;
  } catch (e) {
    return `'${expr}' is not a valid cron expression: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Settings every job kind has: description, schedule, business date, maxAttempts. */
function validateCommon(job: Record<string, unknown>, p: Problems): void {
  optionalString(p, 'description', job.description);
  if (job.schedule !== undefined) {
    if (typeof job.schedule !== 'string') p.add('schedule', `expected a cron expression, got ${describeValue(job.schedule)}`);
    else {
      const bad = checkSchedule(job.schedule);
      if (bad) p.add('schedule', bad);
    }
  }
  const bd = job.businessDate;
  if (bd !== undefined && bd !== 'today' && bd !== 'yesterday' && typeof bd !== 'function') {
    p.add('businessDate', `${describeValue(bd)} is not allowed; expected 'today', 'yesterday' or (now) => DateTime`);
  }
  optionalPositiveInt(p, 'maxAttempts', job.maxAttempts);
}

export function validateExportJob(job: Record<string, unknown>, p: Problems, config: ResolvedConfig): void {
  unknownKeys(p, '', job, JOB_KEYS);
  if (job.kind !== undefined && job.kind !== 'export') p.add('kind', `expected 'export' or 'import'`);
  validateCommon(job, p);

  // source
  if (!isPlainObject(job.source)) p.add('source', 'is required: { connection, sql }');
  else {
    const s = job.source;
    unknownKeys(p, 'source', s, ['connection', 'sql', 'params', 'fastPath']);
    const conn = requiredString(p, 'source.connection', s.connection);
    if (conn !== undefined) {
      const c = config.connections[conn];
      if (!c) p.add('source.connection', `no connection '${conn}' in ferry.config.ts (have: ${Object.keys(config.connections).join(', ') || 'none'})`);
      else if (c.type !== 'database') p.add('source.connection', `'${conn}' is a ${c.type} connection; a source needs a database`);
    }
    requiredString(p, 'source.sql', s.sql);
    if (s.params !== undefined && typeof s.params !== 'function') p.add('source.params', 'expected a function (ctx) => ({ name: value })');
    if (s.fastPath !== undefined && typeof s.fastPath !== 'boolean') p.add('source.fastPath', 'expected true or false');
  }

  // format
  if (!isPlainObject(job.format)) p.add('format', "is required: { type: 'csv' | 'kv' | 'jsonl', … }");
  else validateFormat(job.format, p);

  // file
  if (!isPlainObject(job.file)) p.add('file', "is required: { name: 'orders_{date:yyyyMMdd}.csv' }");
  else {
    const f = job.file;
    unknownKeys(p, 'file', f, ['name', 'checksum', 'doneFile']);
    const name = requiredString(p, 'file.name', f.name);
    if (name !== undefined) for (const m of checkNameRule(name, false)) p.add('file.name', m);
    if (f.checksum !== undefined && f.checksum !== 'sha256' && f.checksum !== false) p.add('file.checksum', "expected 'sha256' or false");
    const done = optionalString(p, 'file.doneFile', f.doneFile);
    if (done !== undefined) for (const m of checkNameRule(done, true)) p.add('file.doneFile', m);
  }

  oneOf(p, 'whenEmpty', job.whenEmpty, ['send', 'skip', 'fail'] as const);

  if (job.deliver !== undefined) {
    if (!Array.isArray(job.deliver)) p.add('deliver', 'expected a list of { connection, dir }');
    else
      job.deliver.forEach((d: unknown, i) => {
        const f = `deliver[${i}]`;
        if (!isPlainObject(d)) return p.add(f, `expected { connection, dir }, got ${describeValue(d)}`);
        unknownKeys(p, f, d, ['connection', 'dir', 'ifExists', 'mkdir']);
        const conn = requiredString(p, `${f}.connection`, d.connection);
        if (conn !== undefined) {
          const c = config.connections[conn];
          if (!c) p.add(`${f}.connection`, `no connection '${conn}' in ferry.config.ts`);
          else if (c.type === 'database') p.add(`${f}.connection`, `'${conn}' is a database; deliveries go to a local, sftp or ftp connection`);
        }
        const dir = optionalString(p, `${f}.dir`, d.dir);
        if (dir !== undefined && dir.split(/[/\\]/).includes('..')) p.add(`${f}.dir`, "must not contain '..'");
        oneOf(p, `${f}.ifExists`, d.ifExists, ['fail', 'overwrite', 'skip'] as const);
        if (d.mkdir !== undefined && typeof d.mkdir !== 'boolean') p.add(`${f}.mkdir`, 'expected true or false');
      });
  }
}

/** csv delimiters, for writers and readers alike: one character, not a quote or line break. */
function checkDelimiter(p: Problems, d: unknown): void {
  if (d !== undefined && (typeof d !== 'string' || [...d].length !== 1 || d === '"' || d === '\r' || d === '\n')) {
    p.add('format.delimiter', `${describeValue(d)} is not a delimiter; use one character such as ',', '\\t', '|' or ';' (not a quote or newline)`);
  }
}

function validateFormat(fmt: Record<string, unknown>, p: Problems): void {
  const type = oneOf(p, 'format.type', fmt.type ?? '', ['csv', 'kv', 'jsonl'] as const);
  if (!type) return;
  unknownKeys(p, 'format', fmt, FORMAT_KEYS[type]!);
  oneOf(p, 'format.lineEnding', fmt.lineEnding, ['lf', 'crlf'] as const);
  const enc = optionalString(p, 'format.encoding', fmt.encoding);
  if (enc !== undefined && !encodingSupported(enc)) p.add('format.encoding', `unknown encoding '${enc}'; e.g. 'utf-8', 'utf-8-bom', 'euc-kr', 'cp949'`);
  if (type === 'csv') {
    checkDelimiter(p, fmt.delimiter);
    if (fmt.header !== undefined && typeof fmt.header !== 'boolean') p.add('format.header', 'expected true or false');
    if (fmt.quoteAll !== undefined && typeof fmt.quoteAll !== 'boolean') p.add('format.quoteAll', 'expected true or false');
  }
  if (type === 'kv') {
    optionalString(p, 'format.separator', fmt.separator);
    oneOf(p, 'format.nulls', fmt.nulls, ['omit', 'empty'] as const);
  }
  if (type !== 'jsonl') optionalString(p, 'format.nullText', fmt.nullText);
  if (fmt.trailer !== undefined && typeof fmt.trailer !== 'string' && !(isPlainObject(fmt.trailer) && typeof fmt.trailer.template === 'string')) {
    p.add('format.trailer', "expected a template such as 'TRAILER|{count}' or { template }");
  }
  if (fmt.columns !== undefined) {
    if (!Array.isArray(fmt.columns)) p.add('format.columns', 'expected a list of column names or { name, … }');
    else
      fmt.columns.forEach((c: unknown, i) => {
        const f = `format.columns[${i}]`;
        if (typeof c === 'string') {
          if (c === '') p.add(f, 'empty column name');
          return;
        }
        if (!isPlainObject(c)) return p.add(f, `expected a column name or { name, … }, got ${describeValue(c)}`);
        unknownKeys(p, f, c, ['name', 'as', 'type', 'format', 'decimals', 'nullText', 'bool']);
        requiredString(p, `${f}.name`, c.name);
        optionalString(p, `${f}.as`, c.as);
        oneOf(p, `${f}.type`, c.type, COLUMN_TYPES);
        optionalString(p, `${f}.format`, c.format);
        optionalString(p, `${f}.nullText`, c.nullText);
        if (c.decimals !== undefined && !(Number.isInteger(c.decimals) && (c.decimals as number) >= 0 && (c.decimals as number) <= 30)) {
          p.add(`${f}.decimals`, `expected a whole number from 0 to 30, got ${describeValue(c.decimals)}`);
        }
        if (c.bool !== undefined && !(Array.isArray(c.bool) && c.bool.length === 2 && c.bool.every((x) => typeof x === 'string'))) {
          p.add(`${f}.bool`, "expected two texts, e.g. ['Y', 'N']");
        }
      });
  }
}

const IMPORT_KEYS = ['kind', 'description', 'schedule', 'businessDate', 'fetch', 'deadline', 'format', 'checks', 'load', 'ingest', 'maxAttempts'];
const IMPORT_FORMAT_KEYS: Record<string, string[]> = {
  csv: ['type', 'columns', 'encoding', 'trailer', 'delimiter', 'header', 'nullText', 'maxRecordBytes'],
  kv: ['type', 'columns', 'encoding', 'trailer', 'separator', 'maxRecordBytes'],
  jsonl: ['type', 'columns', 'encoding', 'trailer', 'maxRecordBytes'],
};
export const DEADLINE = /^(?:\+(\d)d\s+)?([01]\d|2[0-3]):([0-5]\d)$/;
export const DURATION = /^(\d+)(ms|s|m|h)$/;

/**
 * How long a file without a done file must keep its size and mtime before it is read. Not zero: a
 * listing cannot tell a file still being uploaded from a finished one, and reading it early loads
 * part of it as if it were all (the rest is then a file already done).
 */
export const DEFAULT_STABLE_FOR = '30s';

/**
 * Things in a valid job that are allowed but likely wrong, for `ferry check` (which prints them
 * and still succeeds). Each names the field.
 */
export function jobWarnings(kind: 'export' | 'import', def: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (kind === 'import' && isPlainObject(def.fetch)) {
    const f = def.fetch;
    if (f.doneFile === undefined && typeof f.stableFor === 'string' && parseDuration(f.stableFor) === 0) {
      out.push(`fetch.stableFor: '${f.stableFor}' takes a file as soon as it is listed, even while the partner is still writing it (a part of it would load as the whole); use a done file or a window such as '${DEFAULT_STABLE_FOR}'`);
    }
  }
  return out;
}

/** '30s' → 30000; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** Is `pattern` a glob (has * or ?) rather than a naming rule? */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern.replace(/\{[^}]*\}/g, ''));
}

export function validateImportJob(job: Record<string, unknown>, p: Problems, config: ResolvedConfig): void {
  unknownKeys(p, '', job, IMPORT_KEYS);
  validateCommon(job, p);
  if (job.deadline !== undefined && (typeof job.deadline !== 'string' || !DEADLINE.test(job.deadline))) {
    p.add('deadline', `${describeValue(job.deadline)} is not a deadline; expected 'HH:mm' (e.g. '09:30') or '+1d HH:mm'`);
  }

  if (!isPlainObject(job.fetch)) p.add('fetch', "is required: { connection, dir, file: 'settle_{date:yyyyMMdd}.csv' }");
  else {
    const f = job.fetch;
    unknownKeys(p, 'fetch', f, ['connection', 'dir', 'file', 'doneFile', 'stableFor', 'after', 'order', 'maxFiles', 'maxBytes']);
    const conn = requiredString(p, 'fetch.connection', f.connection);
    if (conn !== undefined) {
      const c = config.connections[conn];
      if (!c) p.add('fetch.connection', `no connection '${conn}' in ferry.config.ts (have: ${Object.keys(config.connections).join(', ') || 'none'})`);
      else if (c.type === 'database') p.add('fetch.connection', `'${conn}' is a database; files are fetched from a local, sftp or ftp connection`);
    }
    const dir = optionalString(p, 'fetch.dir', f.dir);
    if (dir !== undefined && dir.split(/[/\\]/).includes('..')) p.add('fetch.dir', "must not contain '..'");
    const file = requiredString(p, 'fetch.file', f.file);
    if (file !== undefined) {
      if (/[/\\]/.test(file)) p.add('fetch.file', 'is a file name or glob, not a path; put the folder in fetch.dir');
      else if (!isGlob(file)) for (const m of checkNameRule(file, false)) p.add('fetch.file', m);
    }
    const done = optionalString(p, 'fetch.doneFile', f.doneFile);
    if (done !== undefined) for (const m of checkNameRule(done, true)) p.add('fetch.doneFile', m);
    if (f.stableFor !== undefined && (typeof f.stableFor !== 'string' || parseDuration(f.stableFor) === undefined)) {
      p.add('fetch.stableFor', `${describeValue(f.stableFor)} is not a duration; e.g. '30s', '2m'`);
    }
    const after = f.after;
    if (after !== undefined && after !== 'keep' && after !== 'delete' && !(isPlainObject(after) && typeof after.moveTo === 'string' && after.moveTo !== '')) {
      p.add('fetch.after', "expected 'keep', 'delete' or { moveTo: 'folder' }");
    }
    oneOf(p, 'fetch.order', f.order, ['name', 'mtime'] as const);
    optionalPositiveInt(p, 'fetch.maxFiles', f.maxFiles);
    optionalPositiveInt(p, 'fetch.maxBytes', f.maxBytes);
  }

  if (!isPlainObject(job.format)) p.add('format', "is required: { type: 'csv' | 'kv' | 'jsonl', columns: { … } }");
  else {
    const fmt = job.format;
    const type = oneOf(p, 'format.type', fmt.type ?? '', ['csv', 'kv', 'jsonl'] as const);
    if (type) {
      unknownKeys(p, 'format', fmt, IMPORT_FORMAT_KEYS[type]!);
      const enc = optionalString(p, 'format.encoding', fmt.encoding);
      if (enc !== undefined && !encodingSupported(enc)) p.add('format.encoding', `unknown encoding '${enc}'; e.g. 'utf-8', 'euc-kr', 'cp949'`);
      optionalString(p, 'format.trailer', fmt.trailer);
      if (type === 'csv') {
        checkDelimiter(p, fmt.delimiter);
        if (fmt.header !== undefined && typeof fmt.header !== 'boolean') p.add('format.header', 'expected true or false');
        optionalString(p, 'format.nullText', fmt.nullText);
      }
      optionalPositiveInt(p, 'format.maxRecordBytes', fmt.maxRecordBytes);
      if (!isPlainObject(fmt.columns) || Object.keys(fmt.columns).length === 0) {
        p.add('format.columns', "is required: { column: 'string' | 'int' | 'decimal' | 'float' | 'bool' | 'date' | 'timestamp' | 'timestamptz' | { type, as, format, nullable } }");
      } else {
        for (const [k, v] of Object.entries(fmt.columns)) {
          const f = `format.columns.${k}`;
          if (typeof v === 'string') oneOf(p, f, v, COLUMN_TYPES);
          else if (isPlainObject(v)) {
            unknownKeys(p, f, v, ['type', 'as', 'format', 'nullable']);
            oneOf(p, `${f}.type`, v.type ?? '', COLUMN_TYPES);
            optionalString(p, `${f}.as`, v.as);
            optionalString(p, `${f}.format`, v.format);
            if (v.nullable !== undefined && typeof v.nullable !== 'boolean') p.add(`${f}.nullable`, 'expected true or false');
          } else p.add(f, `expected a type name or { type, … }, got ${describeValue(v)}`);
        }
      }
    }
  }

  if (job.checks !== undefined) {
    if (!isPlainObject(job.checks)) p.add('checks', 'expected { minRows, maxRows, checksum }');
    else {
      unknownKeys(p, 'checks', job.checks, ['minRows', 'maxRows', 'checksum']);
      if (job.checks.minRows !== undefined && !(Number.isInteger(job.checks.minRows) && (job.checks.minRows as number) >= 0)) {
        p.add('checks.minRows', 'expected a whole number ≥ 0');
      }
      optionalPositiveInt(p, 'checks.maxRows', job.checks.maxRows);
      if (job.checks.checksum !== undefined && job.checks.checksum !== 'sha256-sidecar') p.add('checks.checksum', "expected 'sha256-sidecar'");
    }
  }

  const hasLoad = job.load !== undefined;
  const hasIngest = job.ingest !== undefined;
  if (hasLoad === hasIngest) p.add('', 'needs exactly one of load: { connection, table, mode } or ingest: { connection, run }');
  const checkDb = (field: string, conn: unknown) => {
    const name = requiredString(p, field, conn);
    if (name === undefined) return;
    const c = config.connections[name];
    if (!c) p.add(field, `no connection '${name}' in ferry.config.ts`);
    else if (c.type !== 'database') p.add(field, `'${name}' is a ${c.type} connection; rows are loaded into a database`);
  };
  if (hasLoad) {
    if (!isPlainObject(job.load)) p.add('load', 'expected { connection, table, mode }');
    else {
      const l = job.load;
      unknownKeys(p, 'load', l, ['connection', 'table', 'mode', 'key', 'replaceBy']);
      checkDb('load.connection', l.connection);
      requiredString(p, 'load.table', l.table);
      const mode = oneOf(p, 'load.mode', l.mode ?? '', ['insert', 'upsert', 'replace'] as const);
      if (mode === 'upsert' && !(Array.isArray(l.key) && l.key.length > 0 && l.key.every((k) => typeof k === 'string'))) {
        p.add('load.key', "upsert needs the key columns, e.g. key: ['settlement_id']");
      }
      if (mode === 'replace') {
        const r = l.replaceBy;
        if (!(isPlainObject(r) && (typeof r.dateColumn === 'string' || typeof r.fileColumn === 'string'))) {
          p.add('load.replaceBy', "replace needs { dateColumn: 'business_date' } or { fileColumn: 'source_file' }: which rows a file replaces");
        }
      }
    }
  }
  if (hasIngest) {
    if (!isPlainObject(job.ingest) || typeof job.ingest.run !== 'function') p.add('ingest', 'expected { connection, run: async (rows, trx, ctx) => { … } }');
    else checkDb('ingest.connection', job.ingest.connection);
  }
}
