/** fastPathCheck, and header/trailer bytes that wrap database-produced rows like encodeFile would. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastPathCheck, fileHeaderBytes, fileTrailerBytes, resolveColumns, type EncodeOptions } from '../../src/formats/index.js';
import { FormatError } from '../../src/errors.js';
import type { FormatSpec } from '../../src/types.js';
import { Decimal, LocalDate, type SourceColumn } from '../../src/values.js';
import { encodeAll } from './helpers.js';

const SOURCE: SourceColumn[] = [
  { name: 'id', type: 'int' },
  { name: 'name', type: 'string' },
  { name: 'amount', type: 'decimal' },
  { name: 'day', type: 'date' },
];

function opts(format: FormatSpec, source = SOURCE): EncodeOptions {
  return { format, columns: resolveColumns(format, source), timezone: 'Asia/Seoul', businessDate: '2026-11-20', fileName: 'f.csv' };
}

test('fastPathCheck accepts plain utf-8 csv', () => {
  assert.deepEqual(fastPathCheck(opts({ type: 'csv' })), { ok: true });
  assert.deepEqual(fastPathCheck(opts({ type: 'csv', encoding: 'utf-8-bom', delimiter: '\t', lineEnding: 'crlf', header: false })), { ok: true });
  assert.deepEqual(fastPathCheck(opts({ type: 'csv', encoding: 'UTF8', trailer: 'T|{count}|{date:yyyyMMdd}' })), { ok: true });
  assert.deepEqual(fastPathCheck(opts({ type: 'csv', columns: [{ name: 'id', as: 'n' }, { name: 'name', type: 'timestamptz' }] })), { ok: true });
});

test('fastPathCheck gives a reason for everything it refuses', () => {
  const cases: [FormatSpec, RegExp, SourceColumn[]?][] = [
    [{ type: 'kv' }, /format is kv/],
    [{ type: 'jsonl' }, /format is jsonl/],
    [{ type: 'csv', encoding: 'euc-kr' }, /encoding is euc-kr/],
    [{ type: 'csv', nullText: 'NULL' }, /nullText/],
    [{ type: 'csv', quoteAll: true }, /quoteAll/],
    [{ type: 'csv', columns: [{ name: 'amount', decimals: 2 }] }, /column 'amount' has decimals/],
    [{ type: 'csv', columns: [{ name: 'day', format: 'yyyyMMdd' }] }, /column 'day' has format/],
    [{ type: 'csv', columns: [{ name: 'name', nullText: '-' }] }, /column 'name' has nullText/],
    [{ type: 'csv', columns: [{ name: 'id', type: 'bool', bool: ['Y', 'N'] }] }, /column 'id' has bool/],
    [{ type: 'csv', columns: [{ name: 'id', type: 'float' }] }, /column 'id' is of type float/],
    [{ type: 'csv' }, /column 'blob' is of type bytes/, [{ name: 'blob', type: 'bytes' }]],
    [{ type: 'csv' }, /column 'x' is of type unknown/, [{ name: 'x', type: 'unknown' }]],
    [{ type: 'csv', trailer: 'T|{sum:amount}' }, /\{sum:…\}/],
  ];
  for (const [format, reason, source] of cases) {
    const r = fastPathCheck(opts(format, source));
    assert.equal(r.ok, false, JSON.stringify(format));
    if (!r.ok) assert.match(r.reason, reason);
  }
});

test('fileHeaderBytes + rows + fileTrailerBytes equal what encodeFile writes', async () => {
  const format: FormatSpec = { type: 'csv', encoding: 'utf-8-bom', lineEnding: 'crlf', trailer: 'T|{count}|{date:dd.MM.yyyy}', columns: ['id', { name: 'name', as: '이름, 성' }] };
  const rows = [
    [1, '홍길동', new Decimal('1'), new LocalDate('2026-11-20')],
    [2, '', null, null],
  ];
  const full = (await encodeAll({ format, source: SOURCE, rows, fileName: 'f.csv' })).bytes;
  const o = opts(format);
  const header = fileHeaderBytes(o);
  const trailer = fileTrailerBytes(o, { rows: 2 });
  assert.equal(header.toString('utf8'), '\ufeffid,"이름, 성"\r\n');
  assert.equal(trailer.toString('utf8'), 'T|2|20.11.2026\r\n');
  const body = Buffer.from('1,홍길동\r\n2,""\r\n', 'utf8');
  assert.ok(Buffer.concat([header, body, trailer]).equals(full));
  assert.equal(fileTrailerBytes(opts({ type: 'csv' }), { rows: 5 }).length, 0);
  assert.throws(() => fileTrailerBytes(opts({ type: 'csv', trailer: '{sum:amount}' }), { rows: 1 }), FormatError);
});
