/**
 * LF → CRLF for CSV produced elsewhere (PostgreSQL COPY writes LF only). Record ends become CRLF;
 * line breaks inside quoted fields are data and stay as they are, exactly as encodeFile writes them.
 */
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const LF = 0x0a;

/**
 * A Transform that turns each `\n` outside quotes into `\r\n`. Quote state is carried across
 * chunk boundaries: every `"` toggles it, so an escaped `""` inside a quoted field toggles twice
 * and leaves it unchanged, whichever chunk each half lands in.
 */
export function crlfTransform(): Transform {
  let inQuote = false;
  return new Transform({
    transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      const breaks: number[] = [];
      // Next quote / newline at or after `i`; -2 means "not looked up yet", -1 "none left".
      let q = -2;
      let nl = -2;
      let i = 0;
      while (i < buf.length) {
        if (q !== -1 && q < i) q = buf.indexOf(QUOTE, i);
        if (inQuote) {
          if (q < 0) break;
          inQuote = false;
          i = q + 1;
          continue;
        }
        if (nl !== -1 && nl < i) nl = buf.indexOf(LF, i);
        if (nl >= 0 && (q < 0 || nl < q)) {
          breaks.push(nl);
          i = nl + 1;
        } else if (q >= 0) {
          inQuote = true;
          i = q + 1;
        } else break;
      }
      if (breaks.length === 0) {
        callback(null, buf);
        return;
      }
      // One allocation per chunk: copy the runs between record ends, inserting CR before each LF.
      const out = Buffer.allocUnsafe(buf.length + breaks.length);
      let from = 0;
      let at = 0;
      for (const b of breaks) {
        at += buf.copy(out, at, from, b);
        out[at++] = 0x0d;
        from = b;
      }
      buf.copy(out, at, from);
      callback(null, out);
    },
  });
}
