/**
 * Rejections: every problem names its physical line and column, all problems of a file are listed
 * (up to maxProblems), rows with problems are never yielded, and problems that make the rest of a
 * file unreadable stop reading at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import { RejectedFileError, type FileProblem } from '../../src/errors.js';
import { checkTrailer, decodeFile, resolveImportColumns } from '../../src/formats/index.js';
import type { DecodeSummary } from '../../src/formats/types.js';
import type { ImportFormatSpec } from '../../src/types.js';

const FIXTURES = new URL('../../../test/fixtures/read/', import.meta.url);

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Decode and expect a rejection; returns its problems and the rows yielded before it. */
async function reject(
  input: Buffer | string,
  format: ImportFormatSpec,
  opts: { chunk?: number; maxProblems?: number } = {},
): Promise<{ problems: FileProblem[]; yielded: number; summary: DecodeSummary }> {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const summary: DecodeSummary = { rows: 0 };
  let yielded = 0;
  const columns = resolveImportColumns(format);
  try {
    for await (const _ of decodeFile(chunked(bytes, opts.chunk ?? 1 << 16), { format, columns, timezone: 'Asia/Seoul', fileName: 'in.csv', maxProblems: opts.maxProblems }, summary)) {
      void _;
      yielded++;
    }
  } catch (e) {
    assert.ok(e instanceof RejectedFileError, `expected a RejectedFileError, got ${String(e)}`);
    assert.equal(e.fileName, 'in.csv');
    return { problems: e.problems, yielded, summary };
  }
  assert.fail('the file was accepted');
}

const CSV: ImportFormatSpec = {
  type: 'csv',
  columns: { id: 'int', amount: 'decimal', day: { type: 'date', nullable: true }, at: { type: 'timestamp', nullable: true }, ok: { type: 'bool', nullable: true } },
};

test('csv: a wrong field count names the line and both counts', async () => {
  const { problems } = await reject('id,amount,day,at,ok\n1,2,,,\n2,3,,\n3,4,,,,\n', CSV);
  assert.deepEqual(problems, [
    { line: 3, message: 'expected 5 fields but found 4' },
    { line: 4, message: 'expected 5 fields but found 6' },
  ]);
});

test('csv: headerless files must have exactly the declared fields', async () => {
  const { problems } = await reject('1,2\n"x\ny",3,4\n', { type: 'csv', header: false, columns: { a: 'string', b: 'int' } });
  assert.deepEqual(problems, [{ line: 2, message: 'expected 2 fields but found 3' }]);
});

test('csv: missing and unknown header columns are all named, and stop the file', async () => {
  const { problems, summary } = await reject('id,amt,day,extra,other\n1,2,3,4,5\n', CSV);
  assert.equal(summary.rows, 0);
  assert.deepEqual(problems, [
    { line: 1, message: "the header lacks columns 'amount', 'at', 'ok' (it has 'id', 'amt', 'day', 'extra', 'other')" },
    { line: 1, message: "the header has columns the format does not declare: 'amt', 'extra', 'other'" },
  ]);
  const one = await reject('id,day,at,ok\n', CSV);
  assert.deepEqual(one.problems, [{ line: 1, column: 'amount', message: "the header lacks column 'amount' (it has 'id', 'day', 'at', 'ok')" }]);
  const empty = await reject('', CSV);
  assert.deepEqual(empty.problems, [{ line: 1, message: 'the file has no header line (expected id,amount,day,at,ok)' }]);
});

test('bad values: every one is listed with line and column, and no row is yielded after a problem', async () => {
  const text = [
    'id,amount,day,at,ok',
    '1,10.5,2026-11-20,2026-11-20 10:00:00,true',
    'x1,1e5,2026-02-30,2026-11-20 25:00:00,maybe',
    '3,,,,',
    '4,"1,5",20261120,yesterday,',
    '5,7,,,',
  ].join('\n');
  const { problems, yielded, summary } = await reject(text, CSV);
  assert.equal(yielded, 1, 'only the row before the first problem');
  assert.equal(summary.rows, 5);
  assert.deepEqual(problems, [
    { line: 3, column: 'id', message: "'x1' is not an int" },
    { line: 3, column: 'amount', message: "'1e5' is not a decimal: write it without an exponent" },
    { line: 3, column: 'day', message: "'2026-02-30' is not a date (yyyy-MM-dd)" },
    { line: 3, column: 'at', message: "'2026-11-20 25:00:00' is not a timestamp (yyyy-MM-dd HH:mm:ss[.fraction])" },
    { line: 3, column: 'ok', message: "'maybe' is not a boolean (use true/false, t/f, 1/0, y/n or yes/no)" },
    { line: 4, column: 'amount', message: 'value is required' },
    { line: 5, column: 'amount', message: "'1,5' is not a decimal" },
    { line: 5, column: 'day', message: "'20261120' is not a date (yyyy-MM-dd)" },
    { line: 5, column: 'at', message: "'yesterday' is not a timestamp (yyyy-MM-dd HH:mm:ss[.fraction])" },
  ]);
});

test('timestamptz needs an offset; float must be finite; formats are checked', async () => {
  const format: ImportFormatSpec = {
    type: 'jsonl',
    columns: { t: { type: 'timestamptz', nullable: true }, f: { type: 'float', nullable: true }, d: { type: 'date', format: 'yyyyMMdd', nullable: true }, i: { type: 'int', nullable: true } },
  };
  const { problems } = await reject('{"t":"2026-11-20 10:00:00"}\n{"f":1e400}\n{"d":"20261320"}\n{"i":1.0}\n{"f":"NaN"}\n', format);
  assert.deepEqual(problems, [
    { line: 1, column: 't', message: "'2026-11-20 10:00:00' has no UTC offset; timestamptz needs one (e.g. +09:00 or Z)" },
    { line: 2, column: 'f', message: "'1e400' is too large for a float" },
    { line: 3, column: 'd', message: "'20261320' is not a date in the format 'yyyyMMdd'" },
    { line: 4, column: 'i', message: "'1.0' is not an int" },
    { line: 5, column: 'f', message: "'NaN' is not a number" },
  ]);
});

test('csv: an unclosed quote fails early, at the line where the quote opened', async () => {
  // 5 MB of rows after a stray quote on line 3: with maxRecordBytes 4096 reading stops long before the end.
  let pulled = 0;
  const body = Buffer.from('1,2\n'.repeat(1000));
  async function* input(): AsyncGenerator<Buffer> {
    yield Buffer.from('a,b\n1,2\n3,"oops\n');
    for (let i = 0; i < 1250; i++) {
      pulled++;
      yield body;
    }
  }
  const format: ImportFormatSpec = { type: 'csv', maxRecordBytes: 4096, columns: { a: 'int', b: 'string' } };
  const summary: DecodeSummary = { rows: 0 };
  await assert.rejects(
    (async () => {
      for await (const _ of decodeFile(input(), { format, columns: resolveImportColumns(format), timezone: 'UTC', fileName: 'in.csv' }, summary)) void _;
    })(),
    (e: unknown) => {
      assert.ok(e instanceof RejectedFileError);
      assert.deepEqual(e.problems, [{ line: 3, message: 'unclosed quote starting at line 3: no closing quote within 4096 bytes (maxRecordBytes)' }]);
      return true;
    },
  );
  assert.ok(pulled < 5, `read ${pulled} chunks after the quote`);

  const atEnd = await reject('a,b\n1,2\n3,"oops\n4,5\n', format, { chunk: 3 });
  assert.deepEqual(atEnd.problems, [{ line: 3, message: 'unclosed quote starting at line 3: the file ends inside the quoted field 2' }]);
});

test('csv: quoting mistakes that leave record boundaries clear are per-record problems', async () => {
  const { problems } = await reject('a,b\n1,ab"c\n2,"x"y\n3,ok\n', { type: 'csv', columns: { a: 'int', b: 'string' } });
  assert.deepEqual(problems, [
    { line: 2, message: 'a quote inside the unquoted field 2 (quote the whole field and double the quotes inside it)' },
    { line: 3, message: 'unexpected text after the closing quote of field 2 (quote the whole field and double the quotes inside it)' },
  ]);
});

test('csv: a record over maxRecordBytes is rejected', async () => {
  const { problems } = await reject(`a\n${'x'.repeat(100)}\n`, { type: 'csv', maxRecordBytes: 50, columns: { a: 'string' } });
  assert.deepEqual(problems, [{ line: 2, message: 'the record starting at line 2 is larger than 50 bytes (maxRecordBytes)' }]);
  // Bytes, not characters: 20 Korean syllables are 60 UTF-8 bytes.
  const korean = await reject(`a\n${'가'.repeat(20)}\n`, { type: 'csv', maxRecordBytes: 50, columns: { a: 'string' } });
  assert.equal(korean.problems[0]!.line, 2);
});

test('invalid UTF-8 bytes stop the file at their line', async () => {
  const bytes = readFileSync(new URL('bad_utf8.csv', FIXTURES));
  for (const chunk of [1, 5, 1 << 16]) {
    const { problems, summary } = await reject(bytes, { type: 'csv', columns: { id: 'int', name: 'string' } }, { chunk });
    assert.deepEqual(problems, [{ line: 4, message: 'invalid bytes that are not valid UTF-8 (0xc3 0x28)' }], `chunk ${chunk}`);
    assert.equal(summary.rows, 2);
  }
  const truncated = await reject(Buffer.from([0x61, 0x0a, 0x62, 0xea, 0xb0]), { type: 'csv', columns: { a: 'string' } });
  assert.deepEqual(truncated.problems, [{ line: 2, message: 'invalid the file ends inside a UTF-8 character (bytes 0xea 0xb0)' }]);
});

test('invalid CP949 bytes are found (iconv-lite would replace them silently)', async () => {
  const good = iconv.encode('이름\n가나\n다라\n', 'cp949');
  const bytes = Buffer.concat([good, Buffer.from([0xff, 0xff, 0x0a])]);
  const { problems } = await reject(bytes, { type: 'csv', encoding: 'cp949', columns: { 이름: 'string' } }, { chunk: 1 });
  assert.deepEqual(problems, [{ line: 4, message: 'invalid bytes that are not valid cp949' }]);
  const bom = await reject(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), good]), { type: 'csv', encoding: 'euc-kr', columns: { 이름: 'string' } });
  assert.deepEqual(bom.problems, [{ line: 1, message: 'invalid the file starts with a UTF-8 byte order mark but the format says euc-kr' }]);
});

test('jsonl: bad JSON, non-objects, unknown and duplicate keys, nested values', async () => {
  const format: ImportFormatSpec = { type: 'jsonl', columns: { id: 'int', name: { type: 'string', nullable: true } } };
  const text = ['{"id":1}', '{"id":2,', '[1,2]', '{"id":3,"nme":"x"}', '{"id":4,"id":5}', '{"id":6,"name":{"a":1}}', '{"id":null}', '{"id":7} x'].join('\n');
  const { problems } = await reject(text, format);
  assert.equal(problems[0]!.line, 2);
  assert.match(problems[0]!.message, /^invalid JSON: /);
  assert.deepEqual(problems.slice(1), [
    { line: 3, message: 'expected a JSON object on each line, found an array' },
    { line: 4, column: 'nme', message: "unknown key 'nme' (the format has id, name)" },
    { line: 5, column: 'id', message: "key 'id' appears more than once in the object" },
    { line: 6, column: 'name', message: 'expected a string value, found a JSON object' },
    { line: 7, column: 'id', message: 'value is required' },
    { line: 8, message: problems[6]!.message },
  ]);
  assert.match(problems[6]!.message, /^invalid JSON: /);
});

test('kv: unknown and duplicate keys, stray tokens, bad escapes, unclosed quotes', async () => {
  const format: ImportFormatSpec = { type: 'kv', columns: { id: 'int', name: { type: 'string', nullable: true } } };
  const text = ['id=1 name="a \\"b\\""', 'id=2 nam=x', 'id=3 id=4', 'id=5 junk', 'id=6 name="bad \\q"', 'id=7 name="open', 'name=x'].join('\n');
  const { problems } = await reject(text, format);
  assert.deepEqual(problems, [
    { line: 2, column: 'nam', message: "unknown key 'nam' (the format has id, name)" },
    { line: 3, column: 'id', message: "key 'id' appears more than once on the line" },
    { line: 4, message: "'junk' is not a key=value pair" },
    { line: 5, column: 'name', message: "unknown escape '\\q' in the value of 'name' (use \\\\, \\\", \\n, \\r, \\t or \\uXXXX)" },
    { line: 6, column: 'name', message: "the quoted value of 'name' has no closing quote" },
    { line: 7, column: 'id', message: 'value is required' },
  ]);
});

test('maxProblems caps the list and stops reading', async () => {
  const text = `a\n${'x\n'.repeat(100)}`;
  const { problems, summary } = await reject(text, { type: 'csv', columns: { a: 'int' } }, { maxProblems: 5 });
  assert.equal(problems.length, 5);
  assert.deepEqual(problems[4], { line: 6, column: 'a', message: "'x' is not an int" });
  assert.ok(summary.rows < 100);
  const all = await reject(text, { type: 'csv', columns: { a: 'int' } });
  assert.equal(all.problems.length, 20, 'default maxProblems is 20');
});

test('trailers: count and sum mismatches, missing and malformed trailers', async () => {
  const format: ImportFormatSpec = { type: 'csv', trailer: 'TRAILER|{count}|{sum:amount}', columns: { id: 'int', amount: 'decimal' } };
  const columns = resolveImportColumns(format);
  const run = async (text: string) => {
    const summary: DecodeSummary = { rows: 0 };
    for await (const _ of decodeFile(chunked(Buffer.from(text), 4), { format, columns, timezone: 'UTC', fileName: 'x' }, summary)) void _;
    return checkTrailer(format.trailer!, summary.trailer, { rows: summary.rows, sums: summary.sums! });
  };
  assert.deepEqual(await run('id,amount\n1,1.50\n2,2.5\nTRAILER|2|4.00\n\n'), []);
  assert.deepEqual(await run('id,amount\n1,1.50\n2,2.5\n3,-1\n4,0\nTRAILER|3|3.00\n'), [{ message: 'trailer says 3 rows but the file has 4' }]);
  assert.deepEqual(await run('id,amount\n1,1.50\n2,2.5\nTRAILER|2|4.01'), [
    { column: 'amount', message: 'trailer says the sum of amount is 4.01 but the rows add up to 4.00' },
  ]);
  assert.deepEqual(await run('id,amount\nTRAILER|0|0\n'), []);
  assert.deepEqual(await run('id,amount\n1,1.50\nEND 1\n'), [{ message: "the trailer line 'END 1' does not match the template 'TRAILER|{count}|{sum:amount}'" }]);
  assert.deepEqual(checkTrailer(format.trailer!, undefined, { rows: 0, sums: new Map() }), [
    { message: "the file has no trailer line (expected one like 'TRAILER|{count}|{sum:amount}')" },
  ]);
  assert.deepEqual(checkTrailer('T|{date:yyyyMMdd}', 'T|20261340', { rows: 0, sums: new Map() }), [
    { message: "trailer date '20261340' is not a date in the format 'yyyyMMdd'" },
  ]);
  // A missing trailer on a file with rows: the last data line is taken as the trailer and does not match.
  assert.deepEqual(await run('id,amount\n1,1.50\n2,2.5\n'), [{ message: "the trailer line '2,2.5' does not match the template 'TRAILER|{count}|{sum:amount}'" }]);
});

test('a csv trailer line with another shape (even a stray quote) is never parsed as data', async () => {
  const format: ImportFormatSpec = { type: 'csv', trailer: 'EOF "{count}"', columns: { a: 'int', b: 'int' } };
  const summary: DecodeSummary = { rows: 0 };
  const rows = [];
  for await (const r of decodeFile(chunked(Buffer.from('a,b\r\n1,2\r\nEOF "1"\r\n'), 1), { format, columns: resolveImportColumns(format), timezone: 'UTC', fileName: 'x' }, summary)) rows.push(r);
  assert.equal(rows.length, 1);
  assert.equal(summary.trailer, 'EOF "1"');
  assert.deepEqual(checkTrailer(format.trailer!, summary.trailer, { rows: summary.rows, sums: summary.sums! }), []);
});

test('a summed column with text that is no number is a problem', async () => {
  const { problems } = await reject('a\n1\nx\nT|2\n', { type: 'csv', trailer: 'T|{sum:a}', columns: { a: 'string' } });
  assert.deepEqual(problems, [{ line: 3, column: 'a', message: "'x' cannot be summed for the trailer: it is not a number" }]);
});
