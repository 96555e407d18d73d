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

export function validateExportJob(job: Record<string, unknown>, p: Problems, config: ResolvedConfig): void {
  unknownKeys(p, '', job, JOB_KEYS);
  if (job.kind !== undefined && job.kind !== 'export') p.add('kind', `only 'export' jobs exist in this version`);
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
  optionalPositiveInt(p, 'maxAttempts', job.maxAttempts);
}

function validateFormat(fmt: Record<string, unknown>, p: Problems): void {
  const type = oneOf(p, 'format.type', fmt.type ?? '', ['csv', 'kv', 'jsonl'] as const);
  if (!type) return;
  unknownKeys(p, 'format', fmt, FORMAT_KEYS[type]!);
  oneOf(p, 'format.lineEnding', fmt.lineEnding, ['lf', 'crlf'] as const);
  const enc = optionalString(p, 'format.encoding', fmt.encoding);
  if (enc !== undefined && !encodingSupported(enc)) p.add('format.encoding', `unknown encoding '${enc}'; e.g. 'utf-8', 'utf-8-bom', 'euc-kr', 'cp949'`);
  if (type === 'csv') {
    const d = fmt.delimiter;
    if (d !== undefined && (typeof d !== 'string' || [...d].length !== 1 || d === '"' || d === '\r' || d === '\n')) {
      p.add('format.delimiter', `${describeValue(d)} is not a delimiter; use one character such as ',', '\\t', '|' or ';' (not a quote or newline)`);
    }
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
