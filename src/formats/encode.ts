/**
 * The export encoder: typed rows → the bytes of a csv, kv or jsonl file.
 *
 * This is the hot path of a large export, so everything that does not depend on the row is decided
 * once in {@link compile}: one render function per column, the quoting rule, the line builder.
 * Rows are turned into line strings, collected to about 64 KiB, and converted to bytes in one call
 * per chunk (one encode, one loss check), never per row.
 */
import { DateTime } from 'luxon';
import { ConfigError, FormatError } from '../errors.js';
import type { FormatSpec } from '../types.js';
import { Decimal, ROW_BATCHES, type RowBatchSource, type Value } from '../values.js';
import { badCharMessage, charsetFor, type Charset } from './charset.js';
import { DecimalSum } from './decimal.js';
import { describeValue, hasPlainOutput, makeRenderer, ValueProblem, type TextRenderer } from './render.js';
import { ZoneClock } from './time.js';
import { findSumColumn, parseTrailer, trailerTemplate, type TrailerPart } from './trailer.js';
import type { EncodeOptions, EncodeStats, ResolvedColumn } from './types.js';

/** Characters of row text per chunk; for ASCII data that is 64 KiB of output. */
const CHUNK_CHARS = 64 * 1024;

/** A value problem in a known column of the row being encoded (index into the output columns). */
class CellProblem extends Error {
  constructor(
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

/** Builds one output line (without its line ending) from a row; throws CellProblem. */
type LineBuilder = (row: readonly Value[]) => string;

/** Everything about a file that does not depend on its rows. */
interface Compiled {
  opts: EncodeOptions;
  charset: Charset;
  eol: string;
  /** Header line with line ending ('' when the format has none), without the BOM. */
  headerText: string;
  line: LineBuilder;
  /** Canonical-text renderer of each output column (for sums and locating bad characters). */
  renderers: TextRenderer[];
  /** Output column positions of `{sum:…}` placeholders, in template order. */
  sumColumns: number[];
  /** The trailer line with line ending, or null without a trailer. */
  trailer: ((count: number, sums: readonly DecimalSum[]) => string) | null;
}

/** The effective NULL text of a column for csv/kv. */
function nullTextOf(spec: FormatSpec, col: ResolvedColumn): string {
  if (col.nullText !== undefined) return col.nullText;
  return spec.type === 'jsonl' ? '' : (spec.nullText ?? '');
}

/** A character class body matching `ch` literally. */
function classEscape(ch: string): string {
  return /[\\\]^-]/.test(ch) ? `\\${ch}` : ch;
}

const QUOTE_G = /"/g;

/** `"…"` with inner quotes doubled, as CSV (and PostgreSQL COPY) writes them. */
function csvQuote(s: string): string {
  return `"${s.includes('"') ? s.replace(QUOTE_G, '""') : s}"`;
}

/**
 * The csv line builder. Quoting follows PostgreSQL COPY … CSV exactly so the fast path and this
 * encoder produce the same bytes: a non-NULL field is quoted when it contains the delimiter, '"',
 * CR or LF, when it equals the NULL text (so '' is `""` by default), when it is `\.` alone on the
 * line (COPY's end-of-data marker; only possible with a single column) and always with quoteAll.
 */
function csvLine(c: Omit<Compiled, 'line' | 'headerText'>, columns: ResolvedColumn[]): { line: LineBuilder; header: string } {
  const spec = c.opts.format;
  if (spec.type !== 'csv') throw new Error('csvLine on a non-csv format');
  const d = spec.delimiter ?? ',';
  const special = new RegExp(`[${classEscape(d)}"\\r\\n]`);
  const quoteAll = spec.quoteAll === true;
  const single = columns.length === 1;

  // Typed columns render from a fixed alphabet (digits, '-+:.TeE', NaN/Infinity, true/false);
  // with a delimiter outside it they can never need quotes, which saves a regex per number.
  const plainSafe = !/[0-9A-Za-z+\-:.]/.test(d);
  const cells = columns.map((col, k): ((v: Value) => string) => {
    const render = c.renderers[k]!;
    const nullText = nullTextOf(spec, col);
    if (quoteAll) return (v) => (v === null ? nullText : csvQuote(render(v)));
    if (plainSafe && hasPlainOutput(col)) {
      if (nullText === '') return (v) => (v === null ? '' : render(v));
      return (v) => {
        if (v === null) return nullText;
        const s = render(v);
        return s === nullText ? csvQuote(s) : s;
      };
    }
    return (v) => {
      if (v === null) return nullText;
      const s = render(v);
      return s === nullText || special.test(s) || (single && s === '\\.') ? csvQuote(s) : s;
    };
  });

  const header = columns
    .map((col) => (quoteAll || special.test(col.key) || (single && col.key === '\\.') ? csvQuote(col.key) : col.key))
    .join(d);
  const idx = columns.map((col) => col.index);
  const n = columns.length;
  const line: LineBuilder = (row) => {
    let j = 0;
    try {
      let out = cells[0]!(row[idx[0]!]!);
      for (j = 1; j < n; j++) out += d + cells[j]!(row[idx[j]!]!);
      return out;
    } catch (e) {
      throw e instanceof ValueProblem ? new CellProblem(j, e.message) : e;
    }
  };
  return { line, header: spec.header === false ? '' : header + c.eol };
}

/** kv values need quotes when empty or holding a space, '"', '=', '\' or a control character. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be quoted
const KV_NEEDS_QUOTE = /[ "=\\\x00-\x1f\x7f-\x9f]/;
// eslint-disable-next-line no-control-regex -- and escaped
const KV_ESCAPE_G = /[\\"\x00-\x1f\x7f-\x9f]/g;

function kvEscapeChar(ch: string): string {
  switch (ch) {
    case '\\':
      return '\\\\';
    case '"':
      return '\\"';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** A kv value, quoted and escaped when a reader could otherwise split it wrongly. */
function kvValue(s: string): string {
  if (s !== '' && !KV_NEEDS_QUOTE.test(s)) return s;
  return `"${s.replace(KV_ESCAPE_G, kvEscapeChar)}"`;
}

/** The kv line builder: `key=value` pairs in column order, NULL pairs omitted or `key=<null text>`. */
function kvLine(c: Omit<Compiled, 'line' | 'headerText'>, columns: ResolvedColumn[]): LineBuilder {
  const spec = c.opts.format;
  if (spec.type !== 'kv') throw new Error('kvLine on a non-kv format');
  const sep = spec.separator ?? ' ';
  const omit = spec.nulls !== 'empty';
  const prefixes = columns.map((col) => `${col.key}=`);
  const nulls = columns.map((col, k) => prefixes[k] + nullTextOf(spec, col));
  const idx = columns.map((col) => col.index);
  const n = columns.length;
  const renderers = c.renderers;
  return (row) => {
    let j = 0;
    try {
      let out = '';
      let first = true;
      for (j = 0; j < n; j++) {
        const v = row[idx[j]!]!;
        let pair: string;
        if (v === null) {
          if (omit) continue;
          pair = nulls[j]!;
        } else pair = prefixes[j]! + kvValue(renderers[j]!(v));
        out = first ? pair : out + sep + pair;
        first = false;
      }
      return out;
    } catch (e) {
      throw e instanceof ValueProblem ? new CellProblem(j, e.message) : e;
    }
  };
}

/** JSON number grammar: only text that matches is written bare; 'NaN', '+5', '.5' become strings. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The jsonl line builder: one object per line, keys in column order, NULL as null. */
function jsonlLine(c: Omit<Compiled, 'line' | 'headerText'>, columns: ResolvedColumn[]): LineBuilder {
  const cells = columns.map((col, k): ((v: Value) => string) => {
    const render = c.renderers[k]!;
    const bareBool = col.bool === undefined;
    switch (col.type) {
      case 'string':
        // A declared string stays a string even when the database holds a number (zip codes).
        return (v) => JSON.stringify(render(v));
      case 'int':
      case 'decimal':
      case 'float':
        return (v) => {
          const t = render(v);
          return JSON_NUMBER.test(t) ? t : JSON.stringify(t);
        };
      case 'bool':
        return bareBool ? render : (v) => JSON.stringify(render(v));
      default:
        // Untyped columns follow the value: numbers bare, booleans bare, everything else a string.
        return (v) => {
          const t = render(v);
          if (col.decimals !== undefined || typeof v === 'number' || typeof v === 'bigint' || v instanceof Decimal) {
            return JSON_NUMBER.test(t) ? t : JSON.stringify(t);
          }
          if (typeof v === 'boolean' && bareBool) return t;
          return JSON.stringify(t);
        };
    }
  });
  const keys = columns.map((col, k) => `${k === 0 ? '{' : ','}${JSON.stringify(col.key)}:`);
  const idx = columns.map((col) => col.index);
  const n = columns.length;
  return (row) => {
    let j = 0;
    try {
      let out = n === 0 ? '{' : '';
      for (j = 0; j < n; j++) {
        const v = row[idx[j]!]!;
        out += keys[j]! + (v === null ? 'null' : cells[j]!(v));
      }
      return `${out}}`;
    } catch (e) {
      throw e instanceof ValueProblem ? new CellProblem(j, e.message) : e;
    }
  };
}

/** Build the trailer function of a template; date placeholders are rendered once here. */
function compileTrailer(
  parts: TrailerPart[],
  opts: EncodeOptions,
  clock: ZoneClock,
  eol: string,
): { sumColumns: number[]; render: (count: number, sums: readonly DecimalSum[]) => string } {
  const sumColumns: number[] = [];
  let businessDay: DateTime | undefined;
  const pieces = parts.map((part): string | ((count: number, sums: readonly DecimalSum[]) => string) => {
    switch (part.kind) {
      case 'text':
        return part.text;
      case 'count':
        return (count) => String(count);
      case 'sum': {
        const k = findSumColumn(opts.columns, part.column);
        if (k < 0) throw new ConfigError([`format.trailer: {sum:${part.column}} names no output column`]);
        const slot = sumColumns.length;
        sumColumns.push(k);
        return (_count, sums) => sums[slot]!.toString();
      }
      case 'date': {
        if (!businessDay) {
          businessDay = DateTime.fromISO(opts.businessDate, { zone: clock.zone, locale: 'en-US', numberingSystem: 'latn' });
          if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.businessDate) || !businessDay.isValid) {
            throw new FormatError(`${opts.fileName}: business date '${opts.businessDate}' is not a yyyy-MM-dd date`);
          }
        }
        return businessDay.toFormat(part.format);
      }
    }
  });
  return {
    sumColumns,
    render: (count, sums) => {
      let out = '';
      for (const p of pieces) out += typeof p === 'string' ? p : p(count, sums);
      return out + eol;
    },
  };
}

/** Decide everything that does not depend on the rows. Throws ConfigError for bad options. */
function compile(opts: EncodeOptions): Compiled {
  const spec = opts.format;
  const clock = new ZoneClock(opts.timezone);
  let charset: Charset;
  try {
    charset = charsetFor(spec.encoding);
  } catch (e) {
    throw new ConfigError([`format.encoding: '${String(spec.encoding)}' is not an encoding ferry knows`], { cause: e });
  }
  const eol = spec.lineEnding === 'crlf' ? '\r\n' : '\n';
  const renderers = opts.columns.map((col) => makeRenderer(col, clock));

  const template = trailerTemplate(spec);
  let trailer: Compiled['trailer'] = null;
  let sumColumns: number[] = [];
  if (template !== undefined) {
    const { parts, problems } = parseTrailer(template);
    if (problems.length > 0) throw new ConfigError(problems);
    const t = compileTrailer(parts, opts, clock, eol);
    trailer = t.render;
    sumColumns = t.sumColumns;
  }

  const base = { opts, charset, eol, renderers, sumColumns, trailer };
  switch (spec.type) {
    case 'csv': {
      const { line, header } = csvLine(base, opts.columns);
      return { ...base, line, headerText: header };
    }
    case 'kv':
      return { ...base, line: kvLine(base, opts.columns), headerText: '' };
    case 'jsonl':
      return { ...base, line: jsonlLine(base, opts.columns), headerText: '' };
    default:
      throw new ConfigError([`format.type: '${String((spec as { type?: unknown }).type)}' is not a format (use 'csv', 'kv' or 'jsonl')`]);
  }
}

/** Encode a line that is not a data row (header, trailer), naming `where` if a character is lost. */
function encodeFixed(c: Compiled, text: string, where: string): Buffer {
  const buf = c.charset.encode(text);
  if (buf) return buf;
  const bad = c.charset.findBad(text);
  throw new FormatError(`${c.opts.fileName}: ${where}: ${bad ? badCharMessage(bad, c.charset.label) : `cannot be written in ${c.charset.label}`}`);
}

/** The FormatError for a cell problem in data row `rowNo`. */
function cellError(c: Compiled, column: number, rowNo: number, message: string): FormatError {
  const key = c.opts.columns[column]?.key ?? '?';
  return new FormatError(`${c.opts.fileName}: row ${rowNo}, column '${key}': ${message}`);
}

/**
 * Encode the text of one chunk. When the charset refuses it, rebuild the chunk's lines from its
 * rows to find the first row, column and character at fault; that work happens only on failure.
 */
function encodeChunk(c: Compiled, text: string, rows: readonly (readonly Value[])[], firstRow: number): Buffer {
  const buf = c.charset.encode(text);
  if (buf) return buf;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const bad = c.charset.findBad(c.line(row));
    if (!bad) continue;
    const message = badCharMessage(bad, c.charset.label);
    for (let k = 0; k < c.opts.columns.length; k++) {
      const col = c.opts.columns[k]!;
      const v = row[col.index];
      let cell = col.key;
      if (v !== null && v !== undefined) cell += c.renderers[k]!(v);
      if (cell.includes(bad.char)) throw cellError(c, k, firstRow + i, message);
    }
    throw new FormatError(`${c.opts.fileName}: row ${firstRow + i}: ${message}`);
  }
  throw new FormatError(`${c.opts.fileName}: rows ${firstRow}–${firstRow + rows.length - 1} cannot be written in ${c.charset.label}`);
}

/**
 * Encode a whole file: BOM, header, every row, trailer, with the format's line endings and
 * encoding. Yields Buffers of roughly 64 KiB; an empty row set still gives the header and trailer
 * (and a file with neither is zero bytes, possibly no Buffer at all).
 *
 * `stats.rows` is kept current as rows are encoded, so a caller sees progress and the final count.
 *
 * @throws ConfigError for options that cannot work (bad zone, trailer placeholder, encoding), before
 *   any row is read.
 * @throws FormatError naming file, row (1-based data row), column and value when a value does not fit
 *   its column type or a character cannot be written in the encoding.
 */
export async function* encodeFile(
  rows: AsyncIterable<readonly Value[]>,
  opts: EncodeOptions,
  stats: EncodeStats,
): AsyncGenerator<Buffer> {
  const c = compile(opts);
  const line = c.line;
  const sums = c.sumColumns.map(() => new DecimalSum());
  const sumCols = c.sumColumns.map((k) => ({ k, index: opts.columns[k]!.index, render: c.renderers[k]! }));
  let head: Buffer | null = Buffer.concat([c.charset.bom, encodeFixed(c, c.headerText, 'the header')]);

  // UTF-8 checks each line as it is built (a native scan), so rows need not be kept for
  // locating a bad character; other charsets check whole chunks and keep the chunk's rows.
  const lineOk = c.charset.lineOk;
  const eol = c.eol;
  // Lines are appended to one string and converted to bytes once per ~64 KiB.
  let chunk = '';
  let chunkRows: (readonly Value[])[] = [];
  let firstRow = 1;
  let n = 0;
  stats.rows = 0;
  // Readers take empty lines at the end of a file for stray blank lines, not rows (read.ts). A
  // one-column csv writes NULL as an empty line (as PostgreSQL COPY does), so such a file must not
  // end with one unless a trailer follows: the NULL would silently vanish on the partner's side.
  const blankEndMatters = opts.format.type === 'csv' && opts.columns.length === 1 && !c.trailer;
  let lastEmpty = false;

  /** Encode one row; returns a full chunk to yield, or null while the chunk is filling. */
  const addRow = (row: readonly Value[]): Buffer | null => {
    n++;
    let text: string;
    try {
      text = line(row);
    } catch (e) {
      if (e instanceof CellProblem) throw cellError(c, e.column, n, e.message);
      throw e;
    }
    for (let s = 0; s < sumCols.length; s++) {
      const sc = sumCols[s]!;
      const v = row[sc.index]!;
      if (v === null) continue;
      // The sum is of the values as written (after `decimals`), so a partner can check it.
      let written: string;
      try {
        written = sc.render(v);
      } catch (e) {
        if (e instanceof ValueProblem) throw cellError(c, sc.k, n, e.message);
        throw e;
      }
      if (!sums[s]!.add(written)) throw cellError(c, sc.k, n, `${describeValue(written)} cannot be summed: it is not a number`);
    }
    if (lineOk) {
      if (!lineOk(text)) encodeChunk(c, text, [row], n);
    } else chunkRows.push(row);
    chunk += text + eol;
    lastEmpty = text === '';
    stats.rows = n;
    if (chunk.length >= CHUNK_CHARS) {
      let buf = lineOk ? c.charset.encodeChecked(chunk) : encodeChunk(c, chunk, chunkRows, firstRow);
      if (head) {
        buf = Buffer.concat([head, buf]);
        head = null;
      }
      chunk = '';
      chunkRows = [];
      firstRow = n + 1;
      return buf;
    }
    return null;
  };

  // Sources that can hand out batches (SQLite) are read one await per batch, not per row.
  const batched = (rows as Partial<RowBatchSource>)[ROW_BATCHES];
  if (batched) {
    const batches: AsyncIterable<readonly (readonly Value[])[]> = { [Symbol.asyncIterator]: () => batched.call(rows) };
    for await (const batch of batches) {
      for (let i = 0; i < batch.length; i++) {
        const buf = addRow(batch[i]!);
        if (buf) yield buf;
      }
    }
  } else {
    for await (const row of rows) {
      const buf = addRow(row);
      if (buf) yield buf;
    }
  }
  if (blankEndMatters && lastEmpty) {
    throw cellError(
      c,
      0,
      n,
      'a NULL in the last row of a one-column csv is an empty last line, which readers take for a blank line and drop; set format.nullText (e.g. \'\\N\') or add a trailer',
    );
  }
  const tail: Buffer[] = [];
  if (head) tail.push(head);
  if (chunk !== '') tail.push(lineOk ? c.charset.encodeChecked(chunk) : encodeChunk(c, chunk, chunkRows, firstRow));
  if (c.trailer) tail.push(encodeFixed(c, c.trailer(n, sums), 'the trailer'));
  const last = tail.length === 1 ? tail[0]! : Buffer.concat(tail);
  if (last.length > 0) yield last;
}

/**
 * The bytes encodeFile writes before the first row: BOM (for 'utf-8-bom') and the csv header
 * line. The PostgreSQL fast path wraps the rows COPY produces with these, so both paths give the
 * same file.
 */
export function fileHeaderBytes(opts: EncodeOptions): Buffer {
  const c = compile(opts);
  return Buffer.concat([c.charset.bom, encodeFixed(c, c.headerText, 'the header')]);
}

/**
 * The bytes encodeFile writes after the last row: the trailer line with its line ending, encoded
 * (empty without a trailer), for `stats.rows` data rows.
 * @throws FormatError when the trailer has `{sum:…}`, which needs the rows (the fast path refuses it).
 */
export function fileTrailerBytes(opts: EncodeOptions, stats: EncodeStats): Buffer {
  const c = compile(opts);
  if (!c.trailer) return Buffer.alloc(0);
  if (c.sumColumns.length > 0) {
    throw new FormatError(`${opts.fileName}: the trailer's {sum:…} needs the rows; it cannot be written apart from them`);
  }
  return encodeFixed(c, c.trailer(stats.rows, []), 'the trailer');
}
