/**
 * Trailer templates: the control-total line some partners want at the end of a file,
 * e.g. 'TRAILER|{count}|{sum:amount}|{date:yyyyMMdd}'.
 */
import type { FormatSpec } from '../types.js';
import type { ResolvedColumn } from './types.js';

/** One piece of a parsed template. `sum` names a column by output key or source name. */
export type TrailerPart =
  | { kind: 'text'; text: string }
  | { kind: 'count' }
  | { kind: 'sum'; column: string }
  | { kind: 'date'; format: string };

/** The template text of `format.trailer`, or undefined when there is none. Non-strings give ''. */
export function trailerTemplate(spec: FormatSpec): string | undefined {
  const t = spec.trailer as unknown;
  if (t === undefined || t === null) return undefined;
  if (typeof t === 'string') return t;
  if (typeof t === 'object' && typeof (t as { template?: unknown }).template === 'string') {
    return (t as { template: string }).template;
  }
  return '';
}

/**
 * Split a template into text and placeholders. Every `{…}` is a placeholder; anything but
 * `{count}`, `{sum:column}` and `{date:FORMAT}` (or bare `{date}`, yyyy-MM-dd) is a problem, so a
 * typo like `{cont}` fails at config time instead of reaching the partner.
 */
export function parseTrailer(template: string): { parts: TrailerPart[]; problems: string[] } {
  const parts: TrailerPart[] = [];
  const problems: string[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push({ kind: 'text', text: template.slice(last, m.index) });
    last = m.index + m[0].length;
    const inner = m[1]!;
    const colon = inner.indexOf(':');
    const name = colon >= 0 ? inner.slice(0, colon) : inner;
    const arg = colon >= 0 ? inner.slice(colon + 1) : undefined;
    if (name === 'count' && arg === undefined) parts.push({ kind: 'count' });
    else if (name === 'sum' && arg) parts.push({ kind: 'sum', column: arg });
    else if (name === 'date' && arg !== '') parts.push({ kind: 'date', format: arg ?? 'yyyy-MM-dd' });
    else problems.push(`format.trailer: unknown placeholder '{${inner}}' (use {count}, {sum:column} or {date:FORMAT})`);
  }
  if (last < template.length) parts.push({ kind: 'text', text: template.slice(last) });
  return { parts, problems };
}

/** The output column a `{sum:…}` names: by output key first, then by source column name. */
export function findSumColumn(columns: readonly ResolvedColumn[], name: string): number {
  const byKey = columns.findIndex((c) => c.key === name);
  return byKey >= 0 ? byKey : columns.findIndex((c) => c.source === name);
}
