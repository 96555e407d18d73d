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
import { normalizeEncodingName } from './charset.js';

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

  constructor(private readonly label: string) {
    this.decoder = iconv.getDecoder(label, { stripBOM: true });
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
    return this.check(this.decoder.write(chunk));
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
 * Holds back the last non-empty line of the text that passes through, so that when the input
 * ends it is the trailer and never reaches the parser. Streaming: only that line (plus any empty
 * lines after it) is kept, and it is released as soon as more text follows.
 */
export class TrailerSplitter {
  private pending = '';

  /**
   * @param limit characters the held-back line may reach before the file is rejected: without a
   *   line break there is no last line to hold, and memory must stay bounded.
   * @param lineOf physical line number of the held-back text's start, for the problem.
   */
  constructor(
    private readonly limit: number,
    private readonly lineOf: (pendingText: string) => number,
  ) {}

  /** Text that is certainly not the trailer (ends just after a line break, or ''). */
  push(text: string): string {
    const s = this.pending === '' ? text : this.pending + text;
    let e = s.length - 1;
    for (let c = s.charCodeAt(e); e >= 0 && (c === 10 || c === 13); c = s.charCodeAt(--e));
    if (e < 0) {
      this.pending = s;
      return '';
    }
    const start = s.lastIndexOf('\n', e) + 1;
    this.pending = start === 0 ? s : s.slice(start);
    if (this.pending.length > this.limit) {
      throw new FatalProblem({ line: this.lineOf(this.pending), message: `the line is longer than ${this.limit} characters` });
    }
    return start === 0 ? '' : s.slice(0, start);
  }

  /** The trailer line without its line ending, or undefined when the input had no non-empty line. */
  end(): string | undefined {
    const t = this.pending.replace(/[\r\n]+$/, '');
    return t === '' ? undefined : t;
  }
}

/**
 * Splits text into physical lines for the line-based formats (kv, jsonl): each complete line goes
 * to `onLine` without its '\n' or '\r\n', with its 1-based number. Empty lines are skipped.
 */
export class LineSplitter {
  private rest = '';
  private line = 1;

  constructor(
    private readonly limit: number,
    private readonly onLine: (text: string, line: number) => void,
  ) {}

  push(text: string): void {
    const s = this.rest === '' ? text : this.rest + text;
    let pos = 0;
    let line = this.line;
    try {
      for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', pos)) {
        const end = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (end > pos) this.onLine(s.slice(pos, end), line);
        line++;
        pos = nl + 1;
      }
    } finally {
      // Keep position even when onLine stops the decoding, so numbering stays right.
      this.line = line;
    }
    this.rest = pos === 0 ? s : s.slice(pos);
    if (this.rest.length > this.limit) {
      throw new FatalProblem({ line: this.line, message: `the line is longer than ${this.limit} characters` });
    }
  }

  end(): void {
    const s = this.rest;
    this.rest = '';
    const t = s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s;
    if (t !== '') this.onLine(t, this.line);
  }
}
