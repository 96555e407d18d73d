/**
 * Text from outside (a partner's file names, an SFTP or FTP server's status text, values quoted in
 * problems) made safe for a terminal or a one-line log (SPEC §7).
 *
 * A partner controls those strings. Printed raw, a newline forges a line of the run summary
 * ("orders 2026-11-20 succeeded"), CR or ANSI escapes overwrite or recolour what is shown, and
 * bidi overrides make a name read differently from its bytes. So every character that moves the
 * cursor, starts a control sequence or reorders text is shown as a visible escape instead:
 * C0 controls (with CR, LF and TAB), DEL, C1 controls (U+0080–U+009F: 0x9B is a one-byte CSI),
 * the line and paragraph separators U+2028/2029, and the bidi embeddings, overrides and isolates
 * U+202A–U+202E, U+2066–U+2069 (plus the marks U+200E, U+200F, U+061C).
 *
 * JSON output needs none of this: JSON.stringify escapes controls, and a consumer parses it.
 */

// eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// eslint-disable-next-line no-control-regex -- and the same set, for replacing
const UNSAFE_G = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default: {
      const c = ch.charCodeAt(0);
      return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    }
  }
}

/**
 * `text` with every control, line-breaking and bidi-reordering character written as a visible
 * escape (`\n`, `\x1b`, `\u202e`), so it stays on one line and shows what it is. Idempotent.
 */
export function terminalSafe(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_G, escapeChar) : text;
}
