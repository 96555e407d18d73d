/**
 * Partner text on the terminal (SPEC §7): a file name or server message cannot forge a line of the
 * run summary or the pretty log, recolour it or reorder it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { printLines, table } from '../../src/cli/output.js';
import { describeResults } from '../../src/cli/run.js';
import { terminalProgress } from '../../src/cli/progress.js';
import { describeError, ExitCode, TransferError } from '../../src/errors.js';
import { prettyLine } from '../../src/log.js';
import { terminalSafe } from '../../src/terminal-text.js';

test('terminalSafe escapes C0, DEL, C1, ESC, CR/LF and bidi controls, and nothing else', () => {
  assert.equal(terminalSafe('a\nb\r\tc'), 'a\\nb\\r\\tc');
  assert.equal(terminalSafe('\x1b[31mred\x1b[0m'), '\\x1b[31mred\\x1b[0m');
  assert.equal(terminalSafe('\x00\x07\x7f\x85\x9b'), '\\x00\\x07\\x7f\\x85\\x9b');
  assert.equal(terminalSafe('cod\u202eexe.csv \u2066x\u2069 \u2028'), 'cod\\u202eexe.csv \\u2066x\\u2069 \\u2028');
  // Ordinary text, Korean, emoji and backslashes pass unchanged; escaping twice changes nothing.
  const plain = '정산_20261120.csv 😀 C:\\in "q" 100%';
  assert.equal(terminalSafe(plain), plain);
  const once = terminalSafe('x\n\x1b');
  assert.equal(terminalSafe(once), once);
});

/** Run `fn` with process.stdout.write captured. */
function captureStdout(fn: () => void): string {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return out.join('');
}

test('the run summary prints a transfer error with a hostile server message on one escaped line', () => {
  // What an SFTP server's status text can look like: a colour, a clear-screen, and a forged line.
  const server = 'Permission denied\x1b[2J\r\norders 2026-11-20 succeeded\x1b[0m';
  const err = new TransferError(`bank: cannot rename outbound/settle_20261120.csv: ${server}`, { cause: new Error(server) });
  const received = [{ name: 'settle\n\x1b[31m.csv', outcome: 'rejected' as const, bytes: 1, sha256: '', problems: [{ line: 2, message: 'bad\r\nforged' }] }];
  const results = [
    { job: 'settle', kind: 'import' as const, date: '2026-11-20', outcome: 'failed' as const, exitCode: ExitCode.failed, error: describeError(err), received, durationMs: 1 },
  ];
  const text = captureStdout(() => printLines(describeResults(results)));
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the output ends with one newline');
  // Header, one row, the error line, one problem line: no line of the partner's making.
  assert.equal(lines.length, 4, text);
  // eslint-disable-next-line no-control-regex -- control characters are what must be absent
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(text), 'no control character besides the line breaks');
  assert.ok(lines[2]!.startsWith('settle 2026-11-20: bank: cannot rename outbound/settle_20261120.csv: Permission denied\\x1b[2J\\r\\norders 2026-11-20 succeeded'));
  assert.ok(lines[1]!.includes('settle\\n\\x1b[31m.csv (rejected)'));
  assert.equal(lines[3], '  settle\\n\\x1b[31m.csv: line 2: bad\\r\\nforged');
  // Table columns line up with what is shown (escaped width).
  const t = table(['A', 'B'], [['x\ny', '1'], ['long-name', '2']]);
  assert.equal(t[1]!.indexOf('1'), t[2]!.indexOf('2'));
});

test('the pretty log and the progress bar escape partner text too', async () => {
  const line = prettyLine(JSON.stringify({ level: 30, time: 0, msg: 'download failed\nINFO forged', file: 'a\x1b]0;title\x07.csv', err: { m: '\u202e' } }));
  assert.equal(line.split('\n').length, 2, 'one line');
  assert.ok(line.includes('download failed\\nINFO forged'));
  assert.ok(line.includes('file=a\\x1b]0;title\\x07.csv'));
  assert.ok(line.includes('\\u202e') && !line.includes('\u202e'));

  const writes: string[] = [];
  const stream = { columns: 500, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream;
  const bar = terminalProgress(stream).start('partner:in/x\r\x1b[2Kforged.csv', undefined, 'bytes');
  // A bar is drawn only once a transfer has run 300 ms (as in progress.test.ts).
  await sleep(350);
  bar.update(10);
  bar.done();
  assert.ok(writes[0]!.startsWith('\r\x1b[Kpartner:in/x\\r\\x1b[2Kforged.csv  '), JSON.stringify(writes[0]));
});
