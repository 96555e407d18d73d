/**
 * Error paths: every problem names the file, row, column and value (or character), and config
 * mistakes are collected into one ConfigError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, FormatError } from '../../src/errors.js';
import { encodeFile, resolveColumns } from '../../src/formats/index.js';
import type { FormatSpec } from '../../src/types.js';
import { Decimal, type SourceColumn, type Value } from '../../src/values.js';
import { encodeAll } from './helpers.js';

const SOURCE: SourceColumn[] = [
  { name: 'id', type: 'int' },
  { name: 'name', type: 'string' },
  { name: 'amount', type: 'decimal' },
  { name: 'created_at', type: 'unknown' },
];

function rowsWith(n: number, bad: Value[], at: number): Value[][] {
  const rows: Value[][] = [];
  for (let i = 1; i <= n; i++) rows.push(i === at ? bad : [i, `이름 ${i}`, new Decimal(`${i}.00`), '2026-11-20 10:00:00']);
  return rows;
}

test('an unencodable character in euc-kr names file, row, column and code point', async () => {
  await assert.rejects(
    encodeAll({ format: { type: 'csv', encoding: 'euc-kr' }, source: SOURCE, rows: rowsWith(5, [3, 'smile 😀', null, null], 3) }),
    (e: unknown) => {
      assert.ok(e instanceof FormatError);
      assert.equal(e.message, "orders_20261120.csv: row 3, column 'name': character '😀' (U+1F600) cannot be written in euc-kr");
      return true;
    },
  );
});

test('the failing row is found in a later chunk, not only the first', async () => {
  const rows = rowsWith(5000, [4321, 'ok', null, '서울 ✓ ☃'], 4321);
  await assert.rejects(
    encodeAll({ format: { type: 'csv', encoding: 'cp949', columns: ['id', 'name', { name: 'created_at', as: 'memo' }] }, source: SOURCE, rows }),
    /row 4321, column 'memo': character '✓' \(U\+2713\) cannot be written in cp949/,
  );
});

test("a CP949-only syllable ('똠') is rejected in euc-kr but written in cp949", async () => {
  const rows = rowsWith(3, [2, '똠방각하', null, null], 2);
  await assert.rejects(
    encodeAll({ format: { type: 'csv', encoding: 'euc-kr' }, source: SOURCE, rows }),
    /row 2, column 'name': character '똠' \(U\+B620\) cannot be written in euc-kr/,
  );
  const { bytes } = await encodeAll({ format: { type: 'csv', encoding: 'cp949' }, source: SOURCE, rows });
  assert.ok(bytes.includes(Buffer.from([0x8c, 0x63])), 'CP949 bytes of 똠');
});

test("a genuine '?' in the data is not mistaken for a replacement", async () => {
  const { bytes } = await encodeAll({ format: { type: 'csv', encoding: 'euc-kr' }, source: SOURCE, rows: rowsWith(2, [2, '뭐?? 네?', null, null], 2) });
  assert.match(bytes.toString('latin1'), /\?\? /);
});

test('a lone surrogate is refused in utf-8 with row and column', async () => {
  await assert.rejects(
    encodeAll({ format: { type: 'csv' }, source: SOURCE, rows: rowsWith(4, [4, 'broken \ud83d', null, null], 4) }),
    /orders_20261120\.csv: row 4, column 'name': character U\+D83D \(a lone UTF-16 surrogate/,
  );
});

test('an unencodable character in the header or trailer is reported as such', async () => {
  await assert.rejects(
    encodeAll({ format: { type: 'csv', encoding: 'euc-kr', columns: [{ name: 'id', as: 'id😀' }] }, source: SOURCE, rows: [] }),
    /the header: character '😀'/,
  );
  await assert.rejects(
    encodeAll({ format: { type: 'csv', encoding: 'latin1', trailer: '합계 {count}' }, source: SOURCE, rows: [] }),
    /the trailer: character '합' \(U\+D569\) cannot be written in latin1/,
  );
});

test('a value that does not fit its declared type names file, row, column and value', async () => {
  const format: FormatSpec = { type: 'csv', columns: ['id', { name: 'created_at', type: 'timestamp' }] };
  await assert.rejects(
    encodeAll({ format, source: SOURCE, rows: rowsWith(12, [12, 'x', null, 'yesterday'], 12) }),
    (e: unknown) => {
      assert.ok(e instanceof FormatError);
      assert.equal(e.message, "orders_20261120.csv: row 12, column 'created_at': 'yesterday' is not a timestamp");
      return true;
    },
  );
  const long = 'x'.repeat(100);
  await assert.rejects(
    encodeAll({ format: { type: 'csv', columns: [{ name: 'name', type: 'int' }] }, source: SOURCE, rows: [[1, long, null, null]] }),
    new RegExp(`row 1, column 'name': '${'x'.repeat(40)}…' is not an int`),
  );
});

test('bad values per declared type', async () => {
  const cases: [string, Value, RegExp][] = [
    ['date', '2026-02-30', /'2026-02-30' is not a date/],
    ['date', 20261120, /20261120 is not a date/],
    ['timestamp', '2026-11-20 25:00:00', /is not a timestamp/],
    ['bool', 2, /2 is not a boolean/],
    ['bool', 'yes', /'yes' is not a boolean/],
    ['int', 1.5, /1.5 is not an int/],
    ['int', new Decimal('1.50'), /'1.50' is not an int/],
    ['decimal', '12,50', /'12,50' is not a number/],
    ['decimal', true, /true is not a number/],
  ];
  for (const [type, value, re] of cases) {
    const format = { type: 'csv', columns: [{ name: 'created_at', type }] } as FormatSpec;
    await assert.rejects(encodeAll({ format, source: SOURCE, rows: [[1, 'a', null, value]] }), re, `${type} ${String(value)}`);
  }
});

test('a non-numeric value in a summed column fails with row and column', async () => {
  await assert.rejects(
    encodeAll({ format: { type: 'csv', trailer: '{sum:name}' }, source: SOURCE, rows: rowsWith(2, [2, 'abc', null, null], 2) }),
    /row 1, column 'name': '이름 1' cannot be summed: it is not a number/,
  );
});

test('bad columns config lists every problem at once', () => {
  const spec = {
    type: 'csv',
    delimiter: '""',
    columns: [
      'id',
      'amout',
      { name: 'amount', decimals: 31 },
      { name: 'name', as: 'id' },
      { name: 'created_at', format: 'yyyy' },
      { name: 'created_at', as: 'c2', type: 'datetime' },
      { name: 'id', as: 'flag', bool: ['Y'] },
      { name: 'amount', as: 'a2', decimal: 2 },
    ],
    trailer: 'T|{cnt}|{sum:nope}',
  } as unknown as FormatSpec;
  assert.throws(
    () => resolveColumns(spec, SOURCE),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const expected = [
        `format.delimiter: '""' must be exactly one character other than '"', CR and LF`,
        "format.trailer: unknown placeholder '{cnt}' (use {count}, {sum:column} or {date:FORMAT})",
        "format.columns[1]: column 'amout' is not in the query result (it returns id, name, amount, created_at)",
        "format.columns[2]: 'decimals' must be a whole number from 0 to 30, not 31",
        "format.columns[4]: 'format' applies only to date and timestamp columns; column 'created_at' is unknown (add type: 'date' or 'timestamp' if it holds dates)",
        "format.columns[5]: unknown type 'datetime' (use string, int, decimal, float, bool, date, timestamp, timestamptz)",
        "format.columns[6]: 'bool' must be a pair of strings like ['Y', 'N'], not [\"Y\"]",
        "format.columns[7]: unknown option 'decimal' (known: name, as, type, format, decimals, nullText, bool)",
        "format.columns[3]: key 'id' is already used by format.columns[0]; use 'as' to give it another name",
        'format.trailer: {sum:nope} names no output column (the file has id, amout, amount, id, created_at, c2, flag, a2)',
      ];
      assert.deepEqual(e.problems, expected);
      assert.match(e.message, /^10 problems:/);
      return true;
    },
  );
});

test('kv keys, csv null text and encodings are validated', () => {
  assert.throws(
    () => resolveColumns({ type: 'kv', columns: [{ name: 'name', as: 'full name' }] }, SOURCE),
    /format.columns\[0\]: 'full name' cannot be a kv key/,
  );
  assert.throws(
    () => resolveColumns({ type: 'kv' }, [{ name: 'a=b', type: 'string' }]),
    /'a=b' cannot be a kv key/,
  );
  assert.throws(() => resolveColumns({ type: 'csv', delimiter: '|', nullText: 'N|A' }, SOURCE), /must not contain the delimiter/);
  assert.throws(() => resolveColumns({ type: 'csv', encoding: 'klingon' }, SOURCE), /format.encoding: 'klingon' is not an encoding/);
  assert.throws(() => resolveColumns({ type: 'csv', delimiter: '\n' }, SOURCE), /format.delimiter/);
  assert.throws(
    () => resolveColumns({ type: 'csv' }, [{ name: 'id', type: 'int' }, { name: 'id', type: 'int' }]),
    /the query returns more than one column named 'id'/,
  );
  assert.deepEqual(
    resolveColumns({ type: 'csv', columns: ['amount', { name: 'id', as: 'n', type: 'string' }] }, SOURCE),
    [
      { source: 'amount', index: 2, key: 'amount', type: 'decimal' },
      { source: 'id', index: 0, key: 'n', type: 'string' },
    ],
  );
});

test('an unknown time zone or trailer placeholder fails before any row is read', async () => {
  let pulled = 0;
  async function* rows(): AsyncGenerator<Value[]> {
    pulled++;
    yield [1, 'a', null, null];
  }
  const columns = resolveColumns({ type: 'csv' }, SOURCE);
  const opts = { format: { type: 'csv' } as FormatSpec, columns, timezone: 'Mars/Olympus', businessDate: '2026-11-20', fileName: 'f.csv' };
  await assert.rejects(encodeFile(rows(), opts, { rows: 0 }).next(), (e: unknown) => e instanceof ConfigError && /Mars\/Olympus/.test(e.message));
  const bad = { ...opts, timezone: 'UTC', format: { type: 'csv', trailer: '{rows}' } as FormatSpec };
  await assert.rejects(encodeFile(rows(), bad, { rows: 0 }).next(), ConfigError);
  assert.equal(pulled, 0);
});
