/**
 * Output character sets: string → bytes with loss detection.
 *
 * iconv-lite replaces characters it cannot encode with '?' and says nothing, and Node's UTF-8
 * encoder does the same with lone surrogates (U+FFFD). A partner file with silent '?' in names is
 * worse than a failed run, so every chunk is checked. The check is cheap when nothing is wrong
 * (one native scan); only a failing chunk is taken apart to name the row, column and character.
 * TextEncoder/TextDecoder are never used for legacy encodings (wrong on Node 20, see PITFALLS §1.5).
 */
import iconv from 'iconv-lite';

/** What a failed check found: the offending character (one code point). */
export interface BadChar {
  char: string;
  codePoint: number;
}

/** Node 20 has `String.prototype.isWellFormed`; the ES2023 lib typings do not declare it yet. */
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Lower-case name without '-', '_' or spaces: 'UTF-8-BOM' → 'utf8bom', 'EUC_KR' → 'euckr'. */
export function normalizeEncodingName(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, '');
}

/** Whether ferry can write `name`: UTF-8 (with or without BOM) or any encoding iconv-lite knows. */
export function encodingSupported(name: string): boolean {
  const n = normalizeEncodingName(name);
  return n === 'utf8' || n === 'utf8bom' || iconv.encodingExists(name);
}

/** Whether an encoding name is plain UTF-8 or UTF-8 with BOM (the fast path can write those). */
export function isUtf8Name(name: string | undefined): boolean {
  if (name === undefined) return true;
  const n = normalizeEncodingName(name);
  return n === 'utf8' || n === 'utf8bom';
}

/** The first lone UTF-16 surrogate in `text`, if any. */
function findLoneSurrogate(text: string): BadChar | null {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return { char: text[i]!, codePoint: c };
  }
  return null;
}

/**
 * Strict EUC-KR (KS X 1001): every double-byte character has both bytes in 0xA1–0xFE. iconv-lite's
 * 'euc-kr' is really CP949 (Unified Hangul Code), which also has lead 0x81–0xC6 with trail bytes
 * below 0xA1 for the 8,822 extra syllables (e.g. '똠' = 0x8C 0x63); a strict EUC-KR reader turns
 * those into garbage, so the writer refuses them and the reader rejects them: one rule, here.
 *
 * Scans `buf` from `from` (which must be at a character start) and returns the offset of the lead
 * byte of the first character that breaks the rule, {@link EUCKR_OK} when none does, or
 * {@link EUCKR_LEAD_AT_END} when the buffer ends with a lead byte whose trail byte is still to come.
 */
export function strictEucKrScan(buf: Buffer, from = 0): number {
  const n = buf.length;
  for (let i = from; i < n; i++) {
    const b = buf[i]!;
    if (b < 0x80) continue;
    if (i + 1 >= n) return EUCKR_LEAD_AT_END;
    if (b < 0xa1 || buf[i + 1]! < 0xa1) return i;
    i++;
  }
  return EUCKR_OK;
}
export const EUCKR_OK = -1;
export const EUCKR_LEAD_AT_END = -2;

/** Whether an encoding name means strict EUC-KR ('euc-kr', 'EUC_KR'; not 'cp949'). */
export function isStrictEucKrName(label: string): boolean {
  return normalizeEncodingName(label) === 'euckr';
}

/** Whole-buffer form of {@link strictEucKrScan} for the writer (an encoder never ends inside a character). */
function isStrictEucKr(buf: Buffer): boolean {
  return strictEucKrScan(buf) === EUCKR_OK;
}

/** Count of `code` bytes in a buffer (native indexOf jumps, no per-byte JS loop). */
function countByte(buf: Buffer, code: number): number {
  let n = 0;
  for (let i = buf.indexOf(code); i !== -1; i = buf.indexOf(code, i + 1)) n++;
  return n;
}

function countChar(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/** An output encoding with a BOM and a lossless encode. */
export interface Charset {
  /** The name as configured, for messages. */
  readonly label: string;
  /** Bytes written before everything else (the UTF-8 BOM for 'utf-8-bom'). */
  readonly bom: Buffer;
  /**
   * A cheap per-line check, for charsets where checking each line as it is built costs less than
   * keeping the rows of a chunk around to locate a failure later (UTF-8: one native scan).
   * When set, lines that pass it are encoded with {@link Charset.encodeChecked}.
   */
  readonly lineOk: ((text: string) => boolean) | null;
  /** Encode text, or return null when some character cannot be written (then use findBad). */
  encode(text: string): Buffer | null;
  /** Encode text whose lines all passed `lineOk`. */
  encodeChecked(text: string): Buffer;
  /** The first character of `text` that cannot be written, or null. */
  findBad(text: string): BadChar | null;
}

class Utf8Charset implements Charset {
  readonly bom: Buffer;
  constructor(
    readonly label: string,
    withBom: boolean,
  ) {
    this.bom = withBom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0);
  }
  readonly lineOk = isWellFormed;
  encode(text: string): Buffer | null {
    return isWellFormed(text) ? Buffer.from(text, 'utf8') : null;
  }
  encodeChecked(text: string): Buffer {
    return Buffer.from(text, 'utf8');
  }
  findBad(text: string): BadChar | null {
    return findLoneSurrogate(text);
  }
}

class IconvCharset implements Charset {
  readonly bom = Buffer.alloc(0);
  /** Byte iconv-lite writes for an unencodable character, or -1 for wide encodings (UTF-16/32). */
  private readonly replacement: number;
  /** The character that legitimately encodes to that byte ('?' in ASCII-compatible encodings). */
  private readonly replacementChar: string;
  private readonly strictEucKr: boolean;

  constructor(readonly label: string) {
    this.strictEucKr = isStrictEucKrName(label);
    // Probe with a lone surrogate, which no encoding can write, to learn the replacement byte.
    const probe = iconv.encode('\udc00', label);
    if (probe.length === 1) {
      this.replacement = probe[0]!;
      this.replacementChar = iconv.decode(probe, label);
    } else {
      // Wide encodings can write every code point; only lone surrogates are lost there.
      this.replacement = -1;
      this.replacementChar = '';
    }
  }

  readonly lineOk = null;
  encodeChecked(text: string): Buffer {
    return iconv.encode(text, this.label);
  }
  encode(text: string): Buffer | null {
    if (this.replacement < 0) return isWellFormed(text) ? iconv.encode(text, this.label) : null;
    const buf = iconv.encode(text, this.label);
    // Replacement bytes beyond the genuine '?' characters in the text mean something was lost.
    if (buf.indexOf(this.replacement) !== -1 && countByte(buf, this.replacement) !== countChar(text, this.replacementChar)) {
      return null;
    }
    // Same length means pure ASCII (a double-byte character would add a byte), nothing to check.
    if (this.strictEucKr && buf.length !== text.length && !isStrictEucKr(buf)) return null;
    return buf;
  }

  findBad(text: string): BadChar | null {
    for (const ch of text) {
      const codePoint = ch.codePointAt(0)!;
      if (codePoint < 0x80) continue;
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) return { char: ch, codePoint };
      if (this.replacement < 0) continue;
      const buf = iconv.encode(ch, this.label);
      if (buf.length === 1 && buf[0] === this.replacement && ch !== this.replacementChar) return { char: ch, codePoint };
      if (this.strictEucKr && !isStrictEucKr(buf)) return { char: ch, codePoint };
    }
    return null;
  }
}

/**
 * The charset for a configured encoding name (default UTF-8).
 * @throws Error for names iconv-lite does not know (resolveColumns reports those as config problems).
 */
export function charsetFor(encoding: string | undefined): Charset {
  const label = encoding ?? 'utf-8';
  const n = normalizeEncodingName(label);
  if (n === 'utf8') return new Utf8Charset(label, false);
  if (n === 'utf8bom') return new Utf8Charset('utf-8', true);
  if (!iconv.encodingExists(label)) throw new Error(`unknown encoding '${label}'`);
  return new IconvCharset(label);
}

/** Message text for a character that cannot be written: `character '😀' (U+1F600) cannot be written in euc-kr`. */
export function badCharMessage(bad: BadChar, label: string): string {
  const hex = bad.codePoint.toString(16).toUpperCase().padStart(4, '0');
  if (bad.codePoint >= 0xd800 && bad.codePoint <= 0xdfff) {
    return `character U+${hex} (a lone UTF-16 surrogate, half of a broken character) cannot be written in ${label}`;
  }
  return `character '${bad.char}' (U+${hex}) cannot be written in ${label}`;
}
