/**
 * Whether the database may render a file itself (PostgreSQL `COPY … TO STDOUT (FORMAT csv)`),
 * which is several times faster than encoding rows in JS. Only configurations whose bytes COPY
 * reproduces exactly qualify: everything else would make the two paths give different files.
 */
import { isUtf8Name } from './charset.js';
import { parseTrailer, trailerTemplate } from './trailer.js';
import type { EncodeOptions } from './types.js';

/** Column types whose COPY text output the fast path can map to the canonical text. */
const FAST_TYPES = new Set(['string', 'int', 'decimal', 'bool', 'date', 'timestamp', 'timestamptz']);

/**
 * Decide whether `opts` can be written by the database. The reason says what prevents it, for the
 * log line that explains why a job took the slow path.
 */
export function fastPathCheck(opts: EncodeOptions): { ok: true } | { ok: false; reason: string } {
  const spec = opts.format;
  if (spec.type !== 'csv') return { ok: false, reason: `the format is ${spec.type}, not csv` };
  if (!isUtf8Name(spec.encoding)) return { ok: false, reason: `the encoding is ${spec.encoding}, not utf-8` };
  if ((spec.nullText ?? '') !== '') return { ok: false, reason: `nullText is set ('${spec.nullText}')` };
  if (spec.quoteAll) return { ok: false, reason: 'quoteAll is set' };
  for (const col of opts.columns) {
    const options = (['format', 'decimals', 'nullText', 'bool'] as const).filter((k) => col[k] !== undefined);
    if (options.length > 0) return { ok: false, reason: `column '${col.key}' has ${options.join(', ')}` };
    if (!FAST_TYPES.has(col.type)) return { ok: false, reason: `column '${col.key}' is of type ${col.type}` };
  }
  const template = trailerTemplate(spec);
  if (opts.columns.length === 1 && template === undefined) {
    // COPY would end the file with an empty line for a NULL last row; the row encoder refuses that.
    return { ok: false, reason: 'the file has one column and no trailer (a NULL last row must be refused, not written as a blank line)' };
  }
  if (template !== undefined) {
    const { parts, problems } = parseTrailer(template);
    if (problems.length > 0) return { ok: false, reason: 'the trailer template has unknown placeholders' };
    if (parts.some((p) => p.kind === 'sum')) return { ok: false, reason: 'the trailer has {sum:…}, which needs the rows' };
  }
  return { ok: true };
}
