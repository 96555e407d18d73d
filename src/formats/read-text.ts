/**
 * Received bytes → text, streaming: character decoding with invalid-byte detection, splitting text
 * into lines (kv, jsonl) and holding back the last line when it is a trailer.
 *
 * Decoding is chunk by chunk; nothing here keeps more than an incomplete character or line.
 * Invalid bytes must reject the file, never become U+FFFD quietly, so:
 * - UTF-8 is validated natively (`buffer.isUtf8`) per chunk and decoded with `Buffer#toString`;
 *   the exact offending bytes are located only when a chunk fails.
 * - Other encodings go through iconv-lite's decoder (never TextDecoder, which is wrong for
 *   legacy encodings on Node 20, PITFALLS §1.5). iconv-lite substitutes U+FFFD for bytes it
 *   cannot map and says nothing, so a U+FFFD in its output is the error signal: the legacy
 *   encodings ferry reads (CP949, EUC-KR, windows-125x…) cannot encode U+FFFD, so it never
 *   stands for a real character there.
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import type { FileProblem } from '../errors.js';
import { EUCKR_LEAD_AT_END, EUCKR_OK, isStrictEucKrName, normalizeEncodingName, strictEucKrScan } from './charset.js';

/**
 * A problem after which the rest of the file cannot be read (unclosed quote, invalid bytes, a
 * header that does not match): the decoder stops and rejects the file with what it has.
 */
export class FatalProblem extends Error {
  constructor(readonly problem: FileProblem) {
    super(problem.message);
  }
}

/** Decoded text of one chunk; `bad` ≥ 0 when the chunk had invalid bytes at that text position. */
export interface DecodedText {
  text: string;
  /** Invalid input starts right after `text` (-1: none). The text before it is good. */
  bad: number;
  /** What was wrong, for the problem message. */
  badDetail?: string;
}

/** A streaming decoder of one file. */
export interface FileDecoder {
  write(chunk: Buffer): DecodedText;
  end(): DecodedText;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Hex of up to four bytes for messages: '0xff 0xfe'. */
function hexBytes(buf: Buffer): string {
  return [...buf.subarray(0, 4)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
}

/** Length of the leading part of `buf` that ends on a character boundary (an incomplete UTF-8 tail is cut). */
function completeUtf8Length(buf: Buffer): number {
  const len = buf.length;
  let i = len - 1;
  // Step back over at most three continuation bytes (10xxxxxx) to the lead byte of the last character.
  while (i >= 0 && i > len - 4 && (buf[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return len;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return len - i < need ? i : len;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (run only on failure). */
function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid too.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return n;
}

/** UTF-8 with a leading BOM skipped (whether the format says 'utf-8' or 'utf-8-bom'). */
class Utf8Decoder implements FileDecoder {
  private carry: Buffer | null = null;
  private started = false;

  write(chunk: Buffer): DecodedText {
    let buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    if (!this.started) {
      // Wait for three bytes so a BOM split across chunks is still recognised.
      if (buf.length < 3) {
        this.carry = Buffer.from(buf);
        return { text: '', bad: -1 };
      }
      this.started = true;
      if (buf.subarray(0, 3).equals(BOM)) buf = buf.subarray(3);
    }
    const cut = completeUtf8Length(buf);
    // Copy the few tail bytes so the (large) input chunk is not retained.
    if (cut < buf.length) this.carry = Buffer.from(buf.subarray(cut));
    return this.decode(buf.subarray(0, cut));
  }

  end(): DecodedText {
    const rest = this.carry;
    this.carry = null;
    if (!rest || rest.length === 0) return { text: '', bad: -1 };
    if (!this.started) {
      // A file shorter than a BOM: decode what there is (a partial BOM is invalid UTF-8 anyway).
      this.started = true;
      return this.decode(rest);
    }
    // Bytes left over at the end are an incomplete character.
    return { text: '', bad: 0, badDetail: `the file ends inside a UTF-8 character (bytes ${hexBytes(rest)})` };
  }

  private decode(buf: Buffer): DecodedText {
    if (isUtf8(buf)) return { text: buf.toString('utf8'), bad: -1 };
    const at = firstInvalidUtf8(buf);
    const text = buf.toString('utf8', 0, at);
    if (at >= buf.length) return { text, bad: -1 };
    // Show the bytes of the one malformed sequence (as long as its lead byte announces), so the
    // message does not depend on where the input happened to be split into chunks.
    const lead = buf[at]!;
    const len = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xc2 && lead <= 0xdf ? 2 : 1;
    return { text, bad: text.length, badDetail: `bytes that are not valid UTF-8 (${hexBytes(buf.subarray(at, at + len))})` };
  }
}

/** Any other encoding, through iconv-lite. */
class IconvDecoder implements FileDecoder {
  private readonly decoder: iconv.DecoderStream;
  private started = false;
  /**
   * iconv-lite's 'euc-kr' is CP949 and decodes its extra syllables quietly; a file declared
   * EUC-KR must not contain them (the writer refuses them too, charset.ts strictEucKrScan).
   */
  private readonly strictEucKr: boolean;
  /** A lead byte that ended the previous chunk (-1: none), for the strict EUC-KR check. */
  private lead = -1;

  constructor(private readonly label: string) {
    this.decoder = iconv.getDecoder(label, { stripBOM: true });
    this.strictEucKr = isStrictEucKrName(label);
  }

  write(chunk: Buffer): DecodedText {
    if (!this.started && chunk.length > 0) {
      this.started = true;
      // A UTF-8 BOM in a file declared as a legacy encoding decodes to plausible-looking
      // garbage (CP949 reads it as '癤' and a half character); say what it really is.
      if (chunk.length >= 3 && chunk.subarray(0, 3).equals(BOM) && !normalizeEncodingName(this.label).startsWith('utf')) {
        return { text: '', bad: 0, badDetail: `the file starts with a UTF-8 byte order mark but the format says ${this.label}` };
      }
    }
    if (this.strictEucKr && chunk.length > 0) {
      const bad = this.notEucKr(chunk);
      if (bad !== null) return bad;
    }
    return this.check(this.decoder.write(chunk));
  }

  /** The decoded good text and the problem when `chunk` has a character outside KS X 1001, else null. */
  private notEucKr(chunk: Buffer): DecodedText | null {
    let at: number;
    if (this.lead >= 0) {
      const lead = this.lead;
      this.lead = -1;
      // The carried lead byte is inside iconv-lite's decoder, which has produced no text for it yet.
      if (lead < 0xa1 || chunk[0]! < 0xa1) return this.cp949Only(-1, Buffer.from([lead, chunk[0]!]), chunk);
      at = strictEucKrScan(chunk, 1);
    } else at = strictEucKrScan(chunk, 0);
    if (at === EUCKR_OK) return null;
    if (at === EUCKR_LEAD_AT_END) {
      this.lead = chunk[chunk.length - 1]!;
      return null;
    }
    return this.cp949Only(at, chunk.subarray(at, at + 2), chunk);
  }

  /** Decode the text before the offending character at `at` (-1: it began in the last chunk). */
  private cp949Only(at: number, pair: Buffer, chunk: Buffer): DecodedText {
    const before = at > 0 ? this.check(this.decoder.write(chunk.subarray(0, at))) : { text: '', bad: -1 };
    if (before.bad >= 0) return before;
    const char = iconv.decode(pair, 'cp949');
    const what = pair.length === 2 && !char.includes('\ufffd') ? `'${char}', a CP949 extension that is not EUC-KR (KS X 1001)` : `not EUC-KR (KS X 1001)`;
    return { text: before.text, bad: before.text.length, badDetail: `bytes ${hexBytes(pair)} (${what})` };
  }

  end(): DecodedText {
    return this.check(this.decoder.end() ?? '');
  }

  private check(text: string): DecodedText {
    const bad = text.indexOf('\ufffd');
    if (bad < 0) return { text, bad: -1 };
    return { text: text.slice(0, bad), bad, badDetail: `bytes that are not valid ${this.label}` };
  }
}

/** Whether an encoding name means UTF-8 (with or without BOM). */
function isUtf8Label(label: string): boolean {
  const n = normalizeEncodingName(label);
  return n === 'utf8' || n === 'utf8bom';
}

/**
 * The decoder for a format's `encoding` (default UTF-8).
 * @throws Error for a name iconv-lite does not know (resolveImportColumns reports it as a config problem).
 */
export function fileDecoder(encoding: string | undefined): FileDecoder {
  const label = encoding ?? 'utf-8';
  if (isUtf8Label(label)) return new Utf8Decoder();
  if (!iconv.encodingExists(label)) throw new Error(`unknown encoding '${label}'`);
  return new IconvDecoder(label);
}

/** Number of '\n' in `text` from `from` to `to` (native indexOf jumps, no per-char loop). */
export function countNewlines(text: string, from = 0, to = text.length): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Whether the UTF-8 size of `s[from, to)` exceeds `maxBytes`: the one record-size rule of every
 * reader (`format.maxRecordBytes`). Counted exactly only when the length leaves it open, so the
 * usual record costs two comparisons.
 */
export function overRecordBytes(s: string, from: number, to: number, maxBytes: number): boolean {
  const chars = to - from;
  // A character takes 1–3 UTF-8 bytes (a surrogate pair 4 bytes for 2 chars).
  if (chars * 3 <= maxBytes) return false;
  if (chars > maxBytes) return true;
  return Buffer.byteLength(s.slice(from, to), 'utf8') > maxBytes;
}

/** The problem of a record over `maxRecordBytes`. */
export function recordTooLarge(line: number, maxBytes: number): FatalProblem {
  return new FatalProblem({ line, message: `the record starting at line ${line} is larger than ${maxBytes} bytes (maxRecordBytes)` });
}

/**
 * Text of an unfinished line, kept as pieces rather than one growing string: appending is O(1)
 * and nothing already held is scanned again, so a line costs time linear in its length however it
 * is split into chunks. Its size is bounded by `maxRecordBytes` (checked per piece, in bytes).
 */
class PendingLine {
  private pieces: string[] = [];
  /** Characters held. */
  length = 0;
  /** UTF-8 bytes held, once the character count alone no longer bounds them (-1: not counted). */
  private bytes = -1;

  constructor(private readonly maxBytes: number) {}

  /** Add text; @returns false when the line is now larger than the limit. */
  add(text: string): boolean {
    if (text === '') return true;
    this.pieces.push(text);
    this.length += text.length;
    if (this.bytes >= 0) this.bytes += Buffer.byteLength(text, 'utf8');
    else if (this.length * 3 > this.maxBytes) this.bytes = this.pieces.reduce((n, p) => n + Buffer.byteLength(p, 'utf8'), 0);
    return this.bytes <= this.maxBytes;
  }

  /** The held text, and start over. */
  take(): string {
    const s = this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
    this.pieces = [];
    this.length = 0;
    this.bytes = -1;
    return s;
  }
}

/**
 * Holds back the last non-empty line of the text that passes through, so that when the input
 * ends it is the trailer and never reaches the parser. Streaming: only that line (plus any empty
 * lines after it) is kept, and it is released as soon as more text follows. Only new text is
 * searched for line breaks, never what is already held.
 */
export class TrailerSplitter {
  /** The held line (no '\n' inside it). */
  private readonly held: PendingLine;
  /** Line breaks (and CRs) after the held line; once there is one, the next text starts a new line. */
  private breaks = '';

  /**
   * @param maxBytes UTF-8 bytes the held-back line may reach before the file is rejected: without
   *   a line break there is no last line to hold, and memory must stay bounded.
   * @param lineOf physical line number of the start of the held-back line, given the number of
   *   line breaks held after it, for the problem.
   */
  constructor(
    private readonly maxBytes: number,
    private readonly lineOf: (breaksHeld: number) => number,
  ) {
    this.held = new PendingLine(maxBytes);
  }

  /** Text that is certainly not the trailer (ends just after a line break, or ''). */
  push(text: string): string {
    let e = text.length - 1;
    for (let c = text.charCodeAt(e); e >= 0 && (c === 10 || c === 13); c = text.charCodeAt(--e));
    if (e < 0) {
      // Only line endings: they follow the held line.
      this.breaks += text;
      return '';
    }
    const start = text.lastIndexOf('\n', e) + 1;
    let out = '';
    if (start > 0 || this.breaks.includes('\n')) {
      // A new last line begins: everything held so far is data.
      out = this.held.take() + this.breaks + text.slice(0, start);
      this.breaks = '';
    } else if (this.breaks !== '') {
      // Only CRs followed the held line: a lone CR is not a line break, the line goes on.
      this.held.add(this.breaks);
      this.breaks = '';
    }
    if (!this.held.add(text.slice(start, e + 1))) throw recordTooLarge(this.lineOf(countNewlines(text, e + 1)), this.maxBytes);
    this.breaks = text.slice(e + 1);
    return out;
  }

  /** The trailer line without its line ending, or undefined when the input had no non-empty line. */
  end(): string | undefined {
    const t = this.held.take();
    return t === '' ? undefined : t;
  }
}

/**
 * Splits text into physical lines for the line-based formats (kv, jsonl): each complete line goes
 * to `onLine` without its '\n' or '\r\n', with its 1-based number. Empty lines are no records and
 * are skipped (so blank lines at the end of a file never become rows). A line may not be larger
 * than `maxBytes` (`format.maxRecordBytes`); only new text is searched for line breaks, so time is
 * linear in the input however long a line is.
 */
export class LineSplitter {
  private readonly rest: PendingLine;
  private line = 1;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (text: string, line: number) => void,
  ) {
    this.rest = new PendingLine(maxBytes);
  }

  push(text: string): void {
    let pos = 0;
    let line = this.line;
    try {
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', pos)) {
        let s: string;
        let from: number;
        let to = nl;
        if (this.rest.length > 0) {
          // The line started in an earlier chunk.
          this.rest.add(text.slice(0, nl));
          s = this.rest.take();
          from = 0;
          to = s.length;
        } else {
          s = text;
          from = pos;
        }
        if (to > from && s.charCodeAt(to - 1) === 13) to--;
        if (to > from) {
          if (overRecordBytes(s, from, to, this.maxBytes)) throw recordTooLarge(line, this.maxBytes);
          this.onLine(s.slice(from, to), line);
        }
        line++;
        pos = nl + 1;
      }
    } finally {
      // Keep position even when onLine stops the decoding, so numbering stays right.
      this.line = line;
    }
    if (!this.rest.add(pos === 0 ? text : text.slice(pos))) throw recordTooLarge(this.line, this.maxBytes);
  }

  end(): void {
    const s = this.rest.take();
    const t = s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s;
    if (t !== '') this.onLine(t, this.line);
  }
}
