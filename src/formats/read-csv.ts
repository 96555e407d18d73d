/**
 * A streaming RFC 4180 record parser for received csv files.
 *
 * Why not csv-parse: ferry must tell an empty quoted field ("" = empty string) from an empty
 * unquoted one (NULL), and report the physical line each record starts on. csv-parse exposes the
 * first only through its `cast` callback, which builds three info objects per field, and counts a
 * CRLF inside quotes as two lines. Measured on this machine (10-column file, Node 20): csv-parse
 * alone ~114k rows/s, with `info: true` ~36k, with `cast` ~5k. This parser keeps csv-parse's safety
 * rules (PITFALLS §8) by construction instead:
 * - a BOM never reaches it (the decoder strips it);
 * - an unclosed quote cannot swallow the file: a record may not grow past `maxRecordBytes`, and the
 *   problem names the line where the quote opened;
 * - nothing is skipped or relaxed: every record is handed over with its field count, and quoting
 *   mistakes that leave the record boundaries clear (a quote inside an unquoted field, text after a
 *   closing quote) are reported for that record while parsing goes on.
 *
 * Speed comes from the common case: a physical line without any '"' is one record, split natively
 * with `String#split`. Lines with quotes go through a small state machine using `indexOf` jumps.
 */
import { FatalProblem, countNewlines, overRecordBytes, recordTooLarge } from './read-text.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Receives each record: its fields, which of them were quoted (null: none), the 1-based physical
 * line it starts on, and a quoting problem when there was one (the fields are then best effort).
 */
export type CsvRecordHandler = (fields: string[], quoted: boolean[] | null, line: number, problem: string | null) => void;

/** Where a record ended: the position after it and the line number of that position. */
interface RecordEnd {
  next: number;
  nextLine: number;
}

export class CsvParser {
  /** Text of an incomplete record carried to the next chunk (re-parsed from its start). */
  private rest = '';
  /** Physical line where `rest` starts. */
  private line = 1;
  /** Line where the quote that kept the carried record open was opened (0: not inside quotes). */
  private openQuoteLine = 0;
  /**
   * Empty lines of a one-column file not handed over yet (from line `blankFrom`): they are NULL
   * records only when a record follows them. Blank lines at the end of a file are no records in
   * any format; without that rule an editor's or a transfer tool's stray newlines become rows.
   */
  private blanks = 0;
  private blankFrom = 0;
  private readonly delimCode: number;

  /**
   * @param delimiter one character (checked by resolveImportColumns).
   * @param maxRecordBytes UTF-8 bytes one record may take.
   * @param singleColumn an empty line is a record with one empty field rather than nothing: a
   *   one-column file writes NULL as an empty line, exactly as PostgreSQL COPY does. Unlike COPY,
   *   empty lines at the end of the file are not records (the writer never ends a file that way).
   */
  constructor(
    private readonly delimiter: string,
    private readonly maxRecordBytes: number,
    private readonly singleColumn: boolean,
    onRecord: CsvRecordHandler,
  ) {
    this.delimCode = delimiter.charCodeAt(0);
    this.onRecord = (fields, quoted, line, problem) => {
      if (this.blanks > 0) this.flushBlanks();
      onRecord(fields, quoted, line, problem);
    };
    this.emitRecord = onRecord;
  }

  private readonly onRecord: CsvRecordHandler;
  private readonly emitRecord: CsvRecordHandler;

  private blankLine(line: number): void {
    if (this.blanks === 0) this.blankFrom = line;
    this.blanks++;
  }

  /** A record follows the held empty lines: they were NULL records after all. */
  private flushBlanks(): void {
    const n = this.blanks;
    this.blanks = 0;
    for (let k = 0; k < n; k++) this.emitRecord([''], null, this.blankFrom + k, null);
  }

  /** Parse the next piece of text; an incomplete last record waits for more. */
  push(text: string): void {
    this.parse(this.rest === '' ? text : this.rest + text, false);
  }

  /**
   * The input ended: parse what is left. Held empty lines are dropped, unless a trailer line
   * followed them (then they were not at the end of the file). @throws FatalProblem for an
   * unclosed quote.
   */
  end(trailerFollows = false): void {
    if (this.rest !== '') this.parse(this.rest, true);
    this.rest = '';
    if (trailerFollows && this.blanks > 0) this.flushBlanks();
    this.blanks = 0;
  }

  private parse(s: string, final: boolean): void {
    const n = s.length;
    const d = this.delimiter;
    let pos = 0;
    let line = this.line;
    // Position of the next '"' at or after `pos`, looked up again only once passed, so a chunk
    // without quotes is searched once rather than once per line.
    let nextQuote = -2;
    this.openQuoteLine = 0;
    while (pos < n) {
      const nl = s.indexOf('\n', pos);
      if (nl === -1 && !final) break;
      const lineEnd = nl === -1 ? n : nl;
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = s.indexOf('"', pos);
      if (nextQuote === -1 || nextQuote > lineEnd) {
        // No quote on this line: it is one whole record.
        const end = lineEnd > pos && s.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
        if (end > pos) {
          this.checkSize(s, pos, end, line);
          this.onRecord(s.slice(pos, end).split(d), null, line, null);
        } else if (this.singleColumn) this.blankLine(line);
        pos = lineEnd + 1;
        line++;
        continue;
      }
      const r = this.parseRecord(s, pos, line, final);
      if (r === null) break;
      pos = r.next;
      line = r.nextLine;
    }
    this.rest = pos >= n ? '' : s.slice(pos);
    this.line = line;
    if (!final && this.rest !== '') this.checkOpen(this.rest, line);
  }

  /**
   * Parse one record that has a quote somewhere, starting at `pos`. Returns null when the text
   * ends before the record does (and more may come).
   */
  private parseRecord(s: string, pos: number, line: number, final: boolean): RecordEnd | null {
    const n = s.length;
    const d = this.delimiter;
    const dc = this.delimCode;
    const fields: string[] = [];
    const quoted: boolean[] = [];
    let problem: string | null = null;
    let lines = 0;
    let i = pos;
    for (;;) {
      if (i < n && s.charCodeAt(i) === QUOTE) {
        const open = line + lines;
        let j = i + 1;
        let val = '';
        for (;;) {
          const k = s.indexOf('"', j);
          if (k === -1 || (k + 1 === n && !final)) {
            if (!final) {
              this.openQuoteLine = open;
              return null;
            }
            throw new FatalProblem({
              line: open,
              message: `unclosed quote starting at line ${open}: the file ends inside the quoted field ${fields.length + 1}`,
            });
          }
          if (s.charCodeAt(k + 1) === QUOTE) {
            // "" inside quotes is one quote character.
            val += s.slice(j, k + 1);
            j = k + 2;
            continue;
          }
          val += s.slice(j, k);
          i = k + 1;
          break;
        }
        lines += countNewlines(val);
        fields.push(val);
        quoted.push(true);
        if (i >= n) {
          if (!final) return null;
          return this.emit(s, pos, n, fields, quoted, line, lines, problem);
        }
        const c = s.charCodeAt(i);
        if (c === dc) {
          i++;
          continue;
        }
        if (c === LF) return this.emit(s, pos, i + 1, fields, quoted, line, lines, problem);
        if (c === CR) {
          if (i + 1 >= n && !final) return null;
          if (s.charCodeAt(i + 1) === LF) return this.emit(s, pos, i + 2, fields, quoted, line, lines, problem);
        }
        // Text after a closing quote (`"abc"def`): the record's end is still clear, so report it
        // for this record and go on at the next delimiter or line end.
        problem ??= `unexpected text after the closing quote of field ${fields.length} (quote the whole field and double the quotes inside it)`;
        const a = s.indexOf(d, i);
        const b = s.indexOf('\n', i);
        if (b === -1 && !final) return null;
        if (a !== -1 && (b === -1 || a < b)) {
          i = a + 1;
          continue;
        }
        return this.emit(s, pos, b === -1 ? n : b + 1, fields, quoted, line, lines, problem);
      }
      // An unquoted field: up to the next delimiter or the end of the line.
      const a = s.indexOf(d, i);
      const b = s.indexOf('\n', i);
      if (b === -1 && !final) return null;
      const atDelimiter = a !== -1 && (b === -1 || a < b);
      const end = atDelimiter ? a : b === -1 ? n : b;
      const valEnd = !atDelimiter && end > i && s.charCodeAt(end - 1) === CR ? end - 1 : end;
      const val = s.slice(i, valEnd);
      if (problem === null && val.includes('"')) {
        problem = `a quote inside the unquoted field ${fields.length + 1} (quote the whole field and double the quotes inside it)`;
      }
      fields.push(val);
      quoted.push(false);
      if (atDelimiter) {
        i = a + 1;
        continue;
      }
      return this.emit(s, pos, b === -1 ? n : b + 1, fields, quoted, line, lines, problem);
    }
  }

  private emit(
    s: string,
    pos: number,
    next: number,
    fields: string[],
    quoted: boolean[],
    line: number,
    lines: number,
    problem: string | null,
  ): RecordEnd {
    this.checkSize(s, pos, next, line);
    this.onRecord(fields, quoted, line, problem);
    return { next, nextLine: line + lines + 1 };
  }

  private tooLarge(s: string, from: number, to: number): boolean {
    return overRecordBytes(s, from, to, this.maxRecordBytes);
  }

  private checkSize(s: string, from: number, to: number, line: number): void {
    if (this.tooLarge(s, from, to)) throw recordTooLarge(line, this.maxRecordBytes);
  }

  /** An incomplete record carried over may not outgrow the limit either: that is how an unclosed quote fails early. */
  private checkOpen(rest: string, line: number): void {
    if (!this.tooLarge(rest, 0, rest.length)) return;
    if (this.openQuoteLine > 0) {
      const open = this.openQuoteLine;
      throw new FatalProblem({
        line: open,
        message: `unclosed quote starting at line ${open}: no closing quote within ${this.maxRecordBytes} bytes (maxRecordBytes)`,
      });
    }
    this.checkSize(rest, 0, rest.length, line);
  }
}
