/**
 * Files a hostile or careless partner sends: one enormous line, lone surrogate escapes, stray blank
 * lines at the end, CP949-only bytes in a file declared EUC-KR. Every case is either read exactly
 * or rejected with the line (and column) at fault, with bounded work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { FormatError, RejectedFileError, type FileProblem } from '../../src/errors.js';
import { decodeFile, fastPathCheck, resolveColumns, resolveImportColumns } from '../../src/formats/index.js';
import type { DecodedRow, DecodeSummary } from '../../src/formats/types.js';
import type { FormatSpec, ImportFormatSpec } from '../../src/types.js';
import { Decimal, type Value } from '../../src/values.js';
import { encodeAll } from './helpers.js';

const CHUNK = 64 * 1024;

async function* chunked(bytes: Buffer, size = CHUNK): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

type Outcome = { rows: DecodedRow[]; summary: DecodeSummary } | { problems: FileProblem[] };

async function decode(input: AsyncIterable<Buffer> | Buffer | string, format: ImportFormatSpec): Promise<Outcome> {
  const source = typeof input === 'string' ? chunked(Buffer.from(input)) : Buffer.isBuffer(input) ? chunked(input) : input;
  const summary: DecodeSummary = { rows: 0 };
  const rows: DecodedRow[] = [];
  try {
    for await (const row of decodeFile(source, { format, columns: resolveImportColumns(format), timezone: 'Asia/Seoul', fileName: 'in.txt' }, summary)) rows.push(row);
  } catch (e) {
    if (e instanceof RejectedFileError) return { problems: e.problems };
    throw e;
  }
  return { rows, summary };
}

async function rows(input: Buffer | string, format: ImportFormatSpec): Promise<Value[][]> {
  const r = await decode(input, format);
  assert.ok('rows' in r, `expected the file to be read, got ${JSON.stringify(r)}`);
  // Integers come back as Decimal; compare them by their text.
  return r.rows.map((x) => x.values.map((v) => (v instanceof Decimal ? (v.toString() as Value) : v)));
}

async function problems(input: AsyncIterable<Buffer> | Buffer | string, format: ImportFormatSpec): Promise<FileProblem[]> {
  const r = await decode(input, format);
  assert.ok('problems' in r, 'expected the file to be rejected');
  return r.problems;
}

/**
 * A 50 MB file that is one line, generated chunk by chunk; counts the bytes the reader pulled. The
 * count is the bound on work: the reader must stop near maxRecordBytes, not read (and re-scan) it all.
 */
function oneHugeLine(prefix: string, total = 50 * 1024 * 1024): { source: AsyncGenerator<Buffer>; pulled: () => number } {
  let pulled = 0;
  const fill = Buffer.alloc(CHUNK, 'x');
  async function* gen(): AsyncGenerator<Buffer> {
    const head = Buffer.from(prefix);
    pulled += head.length;
    yield head;
    while (pulled < total) {
      pulled += fill.length;
      yield fill;
    }
  }
  return { source: gen(), pulled: () => pulled };
}

for (const [type, prefix] of [
  ['kv', 'a="'],
  ['jsonl', '{"a":"'],
] as const) {
  test(`${type}: a 50 MB line is rejected at maxRecordBytes after reading little more than the limit`, async () => {
    const format: ImportFormatSpec = { type, columns: { a: 'string' } };
    const big = oneHugeLine(prefix);
    assert.deepEqual(await problems(big.source, format), [{ line: 1, message: 'the record starting at line 1 is larger than 1048576 bytes (maxRecordBytes)' }]);
    assert.ok(big.pulled() <= (1 << 20) + 2 * CHUNK, `read ${big.pulled()} bytes of a line over the limit`);
  });

  test(`${type}: format.maxRecordBytes sets the bound, counted in UTF-8 bytes`, async () => {
    const format: ImportFormatSpec = { type, maxRecordBytes: 100, columns: { a: 'string' } };
    const line = (v: string) => (type === 'kv' ? `a=${v}\n` : `{"a":"${v}"}\n`);
    const overhead = line('').length - 1;
    assert.deepEqual(await rows(line('가'.repeat(Math.floor((100 - overhead) / 3))), format), [['가'.repeat(Math.floor((100 - overhead) / 3))]]);
    assert.deepEqual(await problems(`${line('ok')}${line('가'.repeat(40))}`, format), [
      { line: 2, message: 'the record starting at line 2 is larger than 100 bytes (maxRecordBytes)' },
    ]);
  });
}

test('kv and jsonl: a line just under the default bound, with many escapes and split across chunks, is read exactly', async () => {
  // ~1 MB of text: every 7th character an escaped quote or backslash, so the quoted-value scanner
  // and the JSON string scanner meet an escape every few characters.
  const unit = 'abc"de\\';
  // Escaped, the unit takes 9 bytes; the line is ~1000 bytes under the bound.
  const value = unit.repeat(Math.floor(((1 << 20) - 1000) / 9));
  const kvValue = value.replace(/[\\"]/g, (c) => `\\${c}`);
  const kvLine = `a="${kvValue}" b=1\n`;
  const jsonLine = `${JSON.stringify({ a: value, b: 1 })}\n`;
  for (const [type, text] of [
    ['kv', kvLine],
    ['jsonl', jsonLine],
  ] as const) {
    assert.ok(Buffer.byteLength(text) < 1 << 20 && Buffer.byteLength(text) > (1 << 20) - 2000, `${type} line of ${Buffer.byteLength(text)} bytes`);
    const format: ImportFormatSpec = { type, columns: { a: 'string', b: 'int' } };
    const got = await rows(`${text}${text}`, format);
    assert.equal(got.length, 2);
    for (const r of got) {
      assert.equal(r[0], value, `${type}: the long value reads back`);
      assert.equal(r[1], '1');
    }
  }
});

test('jsonl: a lone surrogate escape is rejected with line and column; a pair is a character', async () => {
  const format: ImportFormatSpec = { type: 'jsonl', columns: { id: 'int', name: { type: 'string', nullable: true } } };
  assert.deepEqual(await problems('{"id":1,"name":"ok"}\n{"id":2,"name":"x\\ud800y"}\n{"id":3,"name":"\\udc00"}\n', format), [
    { line: 2, column: 'name', message: "the value of 'name' has the escape \\ud800, a lone UTF-16 surrogate, which is no character" },
    { line: 3, column: 'name', message: "the value of 'name' has the escape \\udc00, a lone UTF-16 surrogate, which is no character" },
  ]);
  assert.deepEqual(await rows('{"id":1,"name":"\\ud83d\\ude00 \\u00e9"}\n', format), [['1', '😀 é']]);
  // A key spelled with one is no key of the format either way; it is named as such.
  assert.deepEqual(await problems('{"id":1,"\\ud800":"x"}\n', format), [{ line: 1, message: 'a key has the escape \\ud800, a lone UTF-16 surrogate, which is no character' }]);
});

test('kv: a lone surrogate escape is rejected with line and column; a pair is a character', async () => {
  const format: ImportFormatSpec = { type: 'kv', columns: { id: 'int', name: { type: 'string', nullable: true } } };
  assert.deepEqual(await problems('id=1 name=ok\nid=2 name="\\ud800"\nid=3 name="a\\udfffb"\n', format), [
    { line: 2, column: 'name', message: "the value of 'name' has a \\u escape of a lone UTF-16 surrogate (\\ud800), which is no character" },
    { line: 3, column: 'name', message: "the value of 'name' has a \\u escape of a lone UTF-16 surrogate (\\udfff), which is no character" },
  ]);
  assert.deepEqual(await rows('id=1 name="\\ud83d\\ude00"\n', format), [['1', '😀']]);
});

test('blank lines at the end of a file are not rows; in the middle of a one-column csv an empty line is NULL', async () => {
  const one: ImportFormatSpec = { type: 'csv', columns: { v: { type: 'string', nullable: true } } };
  assert.deepEqual(await rows('v\nx\n\ny\n\n\n\r\n', one), [['x'], [null], ['y']]);
  assert.deepEqual(await rows('v\n\n\n', one), []);
  // Before a trailer the empty lines are not at the end: they are the NULL rows the trailer counts.
  const trailed: ImportFormatSpec = { ...one, trailer: 'END|{count}' };
  const r = await decode('v\nx\n\n\nEND|3\n\n', trailed);
  assert.ok('rows' in r);
  assert.deepEqual(r.rows.map((x) => [x.line, x.values[0]]), [[2, 'x'], [3, null], [4, null]]);
  assert.equal(r.summary.trailer, 'END|3');
  // kv and jsonl: blank lines anywhere are no records.
  assert.deepEqual(await rows('v=1\n\nv=2\n\n\n', { type: 'kv', columns: { v: 'int' } }), [['1'], ['2']]);
  assert.deepEqual(await rows('{"v":1}\n\n{"v":2}\n\n\n', { type: 'jsonl', columns: { v: 'int' } }), [['1'], ['2']]);
});

test('one-column csv round trip: NULL rows read back; a NULL last row without a trailer or null text is refused', async () => {
  const source = [{ name: 'v', type: 'string' as const }];
  const all: Value[][] = [[null], ['x'], [null], [''], [null]];
  const cases: { write: FormatSpec; read: ImportFormatSpec }[] = [
    { write: { type: 'csv', nullText: '\\N' }, read: { type: 'csv', nullText: '\\N', columns: { v: { type: 'string', nullable: true } } } },
    { write: { type: 'csv', trailer: 'END|{count}' }, read: { type: 'csv', trailer: 'END|{count}', columns: { v: { type: 'string', nullable: true } } } },
  ];
  for (const c of cases) {
    const { bytes } = await encodeAll({ format: c.write, source, rows: all });
    assert.deepEqual(await rows(bytes, c.read), all, JSON.stringify(c.write));
  }
  // NULLs inside the file are fine with the default null text; only a NULL last row is ambiguous.
  const inner = await encodeAll({ format: { type: 'csv' }, source, rows: [[null], ['x']] });
  assert.equal(inner.bytes.toString(), 'v\n\nx\n');
  assert.deepEqual(await rows(inner.bytes, { type: 'csv', columns: { v: { type: 'string', nullable: true } } }), [[null], ['x']]);
  // COPY cannot make that refusal, so a one-column file without a trailer takes the row encoder.
  const fast = (format: FormatSpec) =>
    fastPathCheck({ format, columns: resolveColumns(format, source), timezone: 'Asia/Seoul', businessDate: '2026-11-20', fileName: 'one.csv' }).ok;
  assert.equal(fast({ type: 'csv' }), false);
  assert.equal(fast({ type: 'csv', trailer: 'END|{count}' }), true);
  await assert.rejects(
    encodeAll({ format: { type: 'csv' }, source, rows: all, fileName: 'one.csv' }),
    (e: unknown) => e instanceof FormatError && /^one\.csv: row 5, column 'v': a NULL in the last row of a one-column csv/.test(e.message),
  );
});

test('euc-kr: the reader refuses CP949-only syllables exactly as the writer does; cp949 reads them', async () => {
  const text = 'name\n가나\n똠방\n';
  const bytes = iconv.encode(text, 'cp949');
  assert.ok(bytes.includes(Buffer.from([0x8c, 0x63])));
  assert.deepEqual(await rows(bytes, { type: 'csv', encoding: 'cp949', columns: { name: 'string' } }), [['가나'], ['똠방']]);
  assert.deepEqual(await problems(bytes, { type: 'csv', encoding: 'euc-kr', columns: { name: 'string' } }), [
    { line: 3, message: "invalid bytes 0x8c 0x63 ('똠', a CP949 extension that is not EUC-KR (KS X 1001))" },
  ]);
  // The writer refuses the same character in euc-kr.
  await assert.rejects(
    encodeAll({ format: { type: 'csv', encoding: 'euc-kr' }, source: [{ name: 'name', type: 'string' }], rows: [['똠']] }),
    (e: unknown) => e instanceof FormatError && e.message.includes("'똠'"),
  );
  // Split between the two bytes of the character, it is still found.
  const at = bytes.indexOf(0x8c);
  const split = (async function* () {
    yield bytes.subarray(0, at + 1);
    yield bytes.subarray(at + 1);
  })();
  assert.deepEqual(await problems(split, { type: 'csv', encoding: 'euc-kr', columns: { name: 'string' } }), [
    { line: 3, message: "invalid bytes 0x8c 0x63 ('똠', a CP949 extension that is not EUC-KR (KS X 1001))" },
  ]);
  // Plain KS X 1001 text reads in euc-kr.
  assert.deepEqual(await rows(iconv.encode('name\n가나\n', 'euc-kr'), { type: 'csv', encoding: 'euc-kr', columns: { name: 'string' } }), [['가나']]);
});
