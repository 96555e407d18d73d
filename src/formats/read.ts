/**
 * The import decoder: the bytes of a received csv, kv or jsonl file → validated, typed rows.
 *
 * Pipeline, all streaming and synchronous inside one async generator (memory stays flat: at most
 * one input chunk, one incomplete record and the rows of one 64 Ki-character slice are held):
 *
 *   input chunks → FileDecoder (charset, BOM, invalid bytes) → [TrailerSplitter] → parser
 *     (CsvParser | LineSplitter + KvLineParser / JsonlLineParser) → RowSink (NULLs, types,
 *     problems, trailer sums) → yielded DecodedRows
 *
 * Problems are collected, not thrown one by one: a partner gets every bad value of a file (up to
 * `maxProblems`) in one rejection. Rows with problems are never yielded, and after the first
 * problem no row is (the file will be rejected, so loading more rows is wasted work); reading
 * goes on to find more problems. Problems that leave the rest unreadable (unclosed quote,
 * invalid bytes, a header that does not fit the format, an overlong record) stop at once.
 */
import { ConfigError, RejectedFileError, type FileProblem } from '../errors.js';
import type { ImportFormatSpec } from '../types.js';
import type { Value } from '../values.js';
import { DecimalSum } from './decimal.js';
import { findImportColumn } from './read-columns.js';
import { CsvParser } from './read-csv.js';
import { JsonlLineParser } from './read-jsonl.js';
import { KvLineParser, type ParsedLine } from './read-kv.js';
import { countNewlines, FatalProblem, fileDecoder, LineSplitter, TrailerSplitter, type DecodedText, type FileDecoder } from './read-text.js';
import { trailerSumColumns } from './read-trailer.js';
import { makeConverter, type FieldConverter } from './read-values.js';
import { ValueProblem } from './render.js';
import { ZoneClock } from './time.js';
import type { DecodedRow, DecodeOptions, DecodeSummary, ImportColumn } from './types.js';

/**
 * Default `maxRecordBytes`: UTF-8 bytes one record (a csv record, a kv or jsonl line, the trailer)
 * may take. Bounds memory and work when a file has an unclosed quote or no line breaks at all.
 */
const DEFAULT_MAX_RECORD_BYTES = 1 << 20;
/** Decoded text is handed to the parser in slices of this many characters, bounding the rows buffered per step. */
const SLICE_CHARS = 64 * 1024;

/** Thrown when `maxProblems` is reached: there is no point reading further. */
class EnoughProblems extends Error {}

/** Turns cells (field text in column order, null = NULL) into typed rows, collecting problems. */
class RowSink {
  readonly problems: FileProblem[] = [];
  ready: DecodedRow[] = [];
  rows = 0;
  private readonly n: number;
  private readonly keys: string[];
  private readonly nullable: boolean[];
  /** An empty text is NULL in every column but string: '' is no number, date or boolean. */
  private readonly emptyIsNull: boolean[];

  constructor(
    columns: readonly ImportColumn[],
    private readonly convert: FieldConverter[],
    /** Per column, the running sums its value is added to (null: not summed). */
    private readonly sums: (DecimalSum[] | null)[],
    private readonly maxProblems: number,
  ) {
    this.n = columns.length;
    this.keys = columns.map((c) => c.key);
    this.nullable = columns.map((c) => c.nullable);
    this.emptyIsNull = columns.map((c) => c.type !== 'string');
  }

  add(p: FileProblem): void {
    this.problems.push(p);
    if (this.problems.length >= this.maxProblems) throw new EnoughProblems();
  }

  /**
   * One data record. `cells` (null when the record could not be mapped to columns) is turned
   * into the row's values in place. `problems` are structural problems found by the parser.
   */
  record(line: number, cells: (string | null)[] | null, problems: FileProblem[] | null): void {
    this.rows++;
    let bad = false;
    if (problems) {
      bad = true;
      for (const p of problems) this.add(p);
    }
    if (!cells) return;
    const values = cells as Value[];
    for (let k = 0; k < this.n; k++) {
      const text = cells[k] as string | null;
      if (text === null || (text === '' && this.emptyIsNull[k])) {
        values[k] = null;
        if (!this.nullable[k]) {
          bad = true;
          this.add({ line, column: this.keys[k], message: 'value is required' });
        }
        continue;
      }
      try {
        values[k] = this.convert[k]!(text);
      } catch (e) {
        if (!(e instanceof ValueProblem)) throw e;
        bad = true;
        values[k] = null;
        this.add({ line, column: this.keys[k], message: e.message });
        continue;
      }
      const sums = this.sums[k];
      if (sums) {
        for (const sum of sums) {
          if (!sum.add(text)) {
            bad = true;
            this.add({ line, column: this.keys[k], message: `'${text}' cannot be summed for the trailer: it is not a number` });
            break;
          }
        }
      }
    }
    if (!bad && this.problems.length === 0) this.ready.push({ line, values });
  }

  take(): DecodedRow[] {
    const r = this.ready;
    this.ready = [];
    return r;
  }
}

/** Header and field-count handling of csv records, mapping fields to columns. */
class CsvRows {
  private headerSeen: boolean;
  /** Column k is field map[k]; null while the header is unread. */
  private map: number[] | null;
  private identity: boolean;
  private expected: number;

  constructor(
    private readonly columns: readonly ImportColumn[],
    private readonly sink: RowSink,
    header: boolean,
    private readonly nullText: string,
  ) {
    this.headerSeen = !header;
    this.map = header ? null : columns.map((_, k) => k);
    this.identity = !header;
    this.expected = columns.length;
  }

  readonly onRecord = (fields: string[], quoted: boolean[] | null, line: number, problem: string | null): void => {
    if (!this.headerSeen) {
      this.headerSeen = true;
      this.header(fields, line, problem);
      return;
    }
    const sink = this.sink;
    if (problem !== null) {
      sink.record(line, null, [{ line, message: problem }]);
      return;
    }
    if (fields.length !== this.expected) {
      const plural = this.expected === 1 ? 'field' : 'fields';
      sink.record(line, null, [{ line, message: `expected ${this.expected} ${plural} but found ${fields.length}` }]);
      return;
    }
    const nullText = this.nullText;
    // NULL is an unquoted field equal to the null text; a quoted one is always text ("" is '').
    if (this.identity) {
      const cells = fields as (string | null)[];
      for (let k = 0; k < fields.length; k++) {
        if (fields[k] === nullText && (quoted === null || !quoted[k])) cells[k] = null;
      }
      sink.record(line, cells, null);
      return;
    }
    const map = this.map!;
    const cells = new Array<string | null>(map.length);
    for (let k = 0; k < map.length; k++) {
      const f = map[k]!;
      const text = fields[f]!;
      cells[k] = text === nullText && (quoted === null || !quoted[f]) ? null : text;
    }
    sink.record(line, cells, null);
  };

  /** Match the header names to the columns; any mismatch stops the file (no row could be read right). */
  private header(names: string[], line: number, problem: string | null): void {
    const sink = this.sink;
    const problems: FileProblem[] = [];
    if (problem !== null) problems.push({ line, message: `header: ${problem}` });
    const at = new Map<string, number>();
    const duplicates: string[] = [];
    names.forEach((name, i) => {
      if (at.has(name)) duplicates.push(name);
      else at.set(name, i);
    });
    const declared = new Set(this.columns.map((c) => c.key));
    const missing = this.columns.filter((c) => !at.has(c.key)).map((c) => c.key);
    const extra = [...at.keys()].filter((name) => !declared.has(name));
    const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');
    if (missing.length > 0) {
      problems.push({
        line,
        ...(missing.length === 1 ? { column: missing[0] } : {}),
        message: `the header lacks ${missing.length === 1 ? 'column' : 'columns'} ${list(missing)} (it has ${list(names)})`,
      });
    }
    if (extra.length > 0) {
      problems.push({
        line,
        ...(extra.length === 1 ? { column: extra[0] } : {}),
        message: `the header has ${extra.length === 1 ? 'a column' : 'columns'} the format does not declare: ${list(extra)}`,
      });
    }
    if (duplicates.length > 0) problems.push({ line, message: `the header names ${list(duplicates)} more than once` });
    if (problems.length > 0) {
      const last = problems.pop()!;
      for (const p of problems) sink.add(p);
      throw new FatalProblem(last);
    }
    this.map = this.columns.map((c) => at.get(c.key)!);
    this.identity = this.map.every((f, k) => f === k) && names.length === this.columns.length;
    this.expected = names.length;
  }

  /** The input ended. @throws FatalProblem when a header was expected and none came. */
  end(): void {
    if (!this.headerSeen) {
      throw new FatalProblem({ line: 1, message: `the file has no header line (expected ${this.columns.map((c) => c.key).join(',')})` });
    }
  }
}

/** What decodeFile needs from a format: where text goes, and what to do when it ends. */
interface FormatReader {
  push(text: string): void;
  /** @param trailerFollows a trailer line came after the data (held back from the reader). */
  end(trailerFollows: boolean): void;
}

function makeReader(spec: ImportFormatSpec, columns: readonly ImportColumn[], sink: RowSink): FormatReader {
  const maxRecordBytes = spec.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  switch (spec.type) {
    case 'csv': {
      const rows = new CsvRows(columns, sink, spec.header !== false, spec.nullText ?? '');
      const parser = new CsvParser(spec.delimiter ?? ',', maxRecordBytes, columns.length === 1, rows.onRecord);
      return {
        push: (text) => parser.push(text),
        end: (trailerFollows) => {
          parser.end(trailerFollows);
          rows.end();
        },
      };
    }
    case 'kv':
    case 'jsonl': {
      const lineParser = spec.type === 'kv' ? new KvLineParser(columns, spec.separator ?? ' ') : new JsonlLineParser(columns);
      const lines = new LineSplitter(maxRecordBytes, (text, line) => {
        const parsed: ParsedLine = lineParser.parse(text, line);
        sink.record(line, parsed.cells, parsed.problems);
      });
      return { push: (text) => lines.push(text), end: () => lines.end() };
    }
    default:
      throw new ConfigError([`format.type: '${String((spec as { type?: unknown }).type)}' is not a format (use 'csv', 'kv' or 'jsonl')`]);
  }
}

/** Option problems decodeFile cannot work with (resolveImportColumns reports these in full). */
function optionProblems(opts: DecodeOptions): string[] {
  const spec = opts.format;
  const problems: string[] = [];
  if (opts.columns.length === 0) problems.push('format.columns: no columns to read');
  if (spec.type === 'csv') {
    const d = spec.delimiter ?? ',';
    if (d.length !== 1 || d === '"' || d === '\r' || d === '\n') problems.push(`format.delimiter: '${d}' must be one character other than '"', CR and LF`);
  }
  const m = spec.maxRecordBytes;
  if (m !== undefined && !(Number.isSafeInteger(m) && m > 0)) problems.push(`format.maxRecordBytes: ${String(m)} must be a whole number above 0`);
  if (spec.type === 'kv' && spec.separator === '') problems.push('format.separator: must not be empty');
  return problems;
}

/**
 * Decode a received file: bytes in, validated typed rows out, streaming with flat memory.
 *
 * - Encoding: `format.encoding` (default UTF-8; a BOM is skipped, so 'utf-8-bom' reads the same);
 *   any other name goes through iconv-lite. Bytes that are invalid in the encoding reject the file
 *   with the line they are on.
 * - csv: header names matched to `columns` (order free, all required, no others), or without a
 *   header exactly `columns.length` fields in declared order; RFC 4180 quoting, LF or CRLF (mixed
 *   too), quoted line breaks, empty lines skipped (in a one-column file an empty line is NULL, as
 *   PostgreSQL COPY writes it, except at the end of the file). An unquoted field equal to `nullText` (default
 *   '') is NULL; a quoted one is text, so `""` is the empty string, as the writers produce it.
 * - Blank lines at the end of a file are never records, and no record (csv record, kv or jsonl
 *   line, trailer) may be larger than `format.maxRecordBytes` (default 1 MiB).
 * - kv: `key=value` pairs; a missing key or bare `key=` is NULL, `key=""` is ''.
 * - jsonl: one object per line; a missing key or `null` is NULL; numbers are kept exactly as written.
 * - In columns other than string, an empty text is NULL too. A NULL in a column that is not
 *   `nullable` is the problem `value is required`.
 * - With `format.trailer`, the last non-empty line is the trailer: it is not parsed as data (a csv
 *   trailer may have any shape), its text is put in `summary.trailer`, and the exact sums of the
 *   columns its `{sum:…}` placeholders name are put in `summary.sums` (keyed as in the template).
 *   The trailer itself is checked by {@link checkTrailer}, which the caller runs once all rows
 *   were consumed, together with its other whole-file checks.
 *
 * `summary.rows` counts data records (valid or not) and is current whenever a row is yielded.
 *
 * @throws RejectedFileError at the end of the input when any problem was found (each with line and
 *   column), earlier when `maxProblems` (default 20) is reached or the rest cannot be read.
 * @throws ConfigError for options that cannot work (zone, encoding, delimiter), before reading.
 */
export async function* decodeFile(
  input: NodeJS.ReadableStream | AsyncIterable<Buffer>,
  opts: DecodeOptions,
  summary: DecodeSummary,
): AsyncGenerator<DecodedRow> {
  const spec = opts.format;
  const columns = opts.columns;
  const problems = optionProblems(opts);
  let decoder: FileDecoder | null = null;
  try {
    decoder = fileDecoder(spec.encoding);
  } catch {
    problems.push(`format.encoding: '${String(spec.encoding)}' is not an encoding ferry knows (e.g. 'utf-8', 'euc-kr', 'cp949')`);
  }
  if (problems.length > 0 || !decoder) throw new ConfigError(problems);
  const clock = new ZoneClock(opts.timezone);
  const converters = columns.map((c) => makeConverter(c, clock));

  // Trailer sums: one exact running total per `{sum:…}` name, attached to the column it names.
  const template = typeof spec.trailer === 'string' && spec.trailer !== '' ? spec.trailer : undefined;
  const sumsByName = new Map<string, DecimalSum>();
  const sumsByColumn: (DecimalSum[] | null)[] = columns.map(() => null);
  if (template !== undefined) {
    for (const name of trailerSumColumns(template)) {
      const k = findImportColumn(columns, name);
      if (k < 0) throw new ConfigError([`format.trailer: {sum:${name}} names no column (the file has ${columns.map((c) => c.key).join(', ')})`]);
      const sum = new DecimalSum();
      sumsByName.set(name, sum);
      (sumsByColumn[k] ??= []).push(sum);
    }
  }

  const sink = new RowSink(columns, converters, sumsByColumn, Math.max(1, opts.maxProblems ?? 20));
  const reader = makeReader(spec, columns, sink);
  summary.rows = 0;
  summary.trailer = undefined;
  if (template !== undefined) summary.sums = new Map([...sumsByName.keys()].map((name) => [name, '0']));

  /** '\n' characters in all text decoded so far: the line of an invalid byte or of the trailer. */
  let linesSeen = 0;
  const trailerLimit = spec.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const trailer = template !== undefined ? new TrailerSplitter(trailerLimit, (breaksHeld) => linesSeen - breaksHeld + 1) : null;

  const pushText = (text: string): void => {
    linesSeen += countNewlines(text);
    const data = trailer ? trailer.push(text) : text;
    if (data !== '') reader.push(data);
  };
  const badBytes = (d: DecodedText): FatalProblem => new FatalProblem({ line: linesSeen + 1, message: `invalid ${d.badDetail ?? 'bytes'}` });

  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      // Streams with setEncoding give strings; they were decoded as UTF-8 already.
      const d = decoder.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      const text = d.text;
      for (let at = 0; at < text.length; at += SLICE_CHARS) {
        pushText(text.length <= SLICE_CHARS ? text : text.slice(at, at + SLICE_CHARS));
        summary.rows = sink.rows;
        if (sink.ready.length > 0) for (const row of sink.take()) yield row;
      }
      if (d.bad >= 0) throw badBytes(d);
    }
    const d = decoder.end();
    if (d.text !== '') pushText(d.text);
    if (d.bad >= 0) throw badBytes(d);
    if (trailer) summary.trailer = trailer.end();
    reader.end(summary.trailer !== undefined);
    summary.rows = sink.rows;
    if (sink.ready.length > 0) for (const row of sink.take()) yield row;
  } catch (e) {
    summary.rows = sink.rows;
    if (e instanceof FatalProblem) {
      sink.problems.push(e.problem);
      throw new RejectedFileError(opts.fileName, sink.problems);
    }
    if (e instanceof EnoughProblems) throw new RejectedFileError(opts.fileName, sink.problems);
    throw e;
  }
  if (template !== undefined) summary.sums = new Map([...sumsByName].map(([name, sum]) => [name, sum.toString()]));
  if (sink.problems.length > 0) throw new RejectedFileError(opts.fileName, sink.problems);
}
