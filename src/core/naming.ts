/**
 * Naming rules: `orders_{date:yyyyMMdd}.csv`. Pure functions of (rule, job, business date, seq,
 * clock). A rendered name is a single path component: never `/`, `\`, `..` or control chars.
 */
import { DateTime } from 'luxon';

export interface NameContext {
  job: string;
  /** Business date (any time on that day; formatted in its own zone). */
  date: DateTime;
  /** Sequence number for several files of one job and date (1-based). */
  seq: number;
  /** Wall clock at generation, in the config zone. */
  now: DateTime;
  /** The data file's name, for done-file and sidecar rules (`{file}.done`). */
  file?: string;
}

const PLACEHOLDER = /\{([a-z]+)(?::([^}]*))?\}/g;
const KNOWN = ['date', 'job', 'seq', 'now', 'file'] as const;

/** Problems with a naming rule, without rendering it. `allowFile` for done-file rules. */
export function checkNameRule(rule: string, allowFile: boolean): string[] {
  const problems: string[] = [];
  if (rule.trim() === '') return ['is empty'];
  const stripped = rule.replace(PLACEHOLDER, (_m, name: string, arg: string | undefined) => {
    if (!(KNOWN as readonly string[]).includes(name)) {
      problems.push(`unknown placeholder {${name}}; expected {date:FORMAT}, {job}, {seq}, {seq:000}, {now:FORMAT}${allowFile ? ', {file}' : ''}`);
    } else if (name === 'file' && !allowFile) {
      problems.push('{file} is only allowed in doneFile');
    } else if (name === 'seq' && arg !== undefined && !/^0+$/.test(arg)) {
      problems.push(`{seq:${arg}}: the width is written as zeros, e.g. {seq:000}`);
    } else if ((name === 'date' || name === 'now') && arg !== undefined) {
      const sample = DateTime.fromISO('2026-11-20T06:00:00', { zone: 'UTC' }).toFormat(arg);
      if (/[/\\]/.test(sample)) problems.push(`{${name}:${arg}} would put a path separator in the name`);
    }
    return 'x';
  });
  if (/[{}]/.test(stripped)) problems.push('has an unbalanced { or }');
  const bad = unsafeNameReason(stripped);
  if (bad) problems.push(bad);
  return problems;
}

/** Why `name` is not a safe single file name, or undefined when it is. */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return `'${name}' is not a file name`;
  if (/[/\\]/.test(name)) return `'${name}' contains a path separator`;
  if (name.includes('..')) return `'${name}' contains '..'`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return `'${JSON.stringify(name).slice(1, -1)}' contains a control character`;
  return undefined;
}

/** Render a naming rule. Throws an Error with the reason when the result is not a safe name. */
export function renderName(rule: string, ctx: NameContext): string {
  const out = renderPlaceholders(rule, ctx);
  const bad = unsafeNameReason(out);
  if (bad) throw new Error(`naming rule '${rule}' gives an unsafe name: ${bad}`);
  return out;
}

/** Replace the placeholders only (for globs, which are matched, never used as names). */
export function renderPlaceholders(rule: string, ctx: NameContext): string {
  return rule.replace(PLACEHOLDER, (_m, name: string, arg: string | undefined) => {
    switch (name) {
      case 'date':
        return ctx.date.toFormat(arg ?? 'yyyyMMdd');
      case 'now':
        return ctx.now.toFormat(arg ?? "yyyyMMdd'T'HHmmss");
      case 'job':
        return ctx.job;
      case 'seq':
        return String(ctx.seq).padStart(arg?.length ?? 0, '0');
      case 'file':
        if (ctx.file === undefined) throw new Error('{file} has no value here');
        return ctx.file;
      default:
        throw new Error(`unknown placeholder {${name}}`);
    }
  });
}

export function usesSeq(rule: string): boolean {
  return /\{seq(?::0+)?\}/.test(rule);
}
