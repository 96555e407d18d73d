/**
 * Golden-file tests: every format option encoded over rows chosen to hurt (delimiters, quotes,
 * CR/LF inside fields, Korean, emoji, NULL vs '', huge decimals, bigints past 2^53, timestamps
 * that change date in the zone, DST days). Run with UPDATE_GOLDEN=1 to rewrite, then review.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal, Instant, LocalDate, WallTime, type SourceColumn, type Value } from '../../src/values.js';
import type { FormatSpec } from '../../src/types.js';
import { assertGolden, encodeAll } from './helpers.js';

/** Epoch seconds of a UTC date-time. */
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number => Date.UTC(y, mo - 1, d, h, mi, s) / 1000;

const SOURCE: SourceColumn[] = [
  { name: 'id', type: 'int' },
  { name: 'name', type: 'string' },
  { name: 'city', type: 'string' },
  { name: 'amount', type: 'decimal' },
  { name: 'big', type: 'int' },
  { name: 'ratio', type: 'float' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'local_ts', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'paid', type: 'bool' },
  { name: 'note', type: 'string' },
];

const ROWS: Value[][] = [
  [
    1,
    '홍길동',
    '서울',
    new Decimal('1234.50'),
    9007199254740993n,
    0.1,
    // 23:30 UTC is already the next day in Seoul.
    new Instant(utc(2026, 11, 20, 23, 30), ''),
    new WallTime('2026-11-20T23:59:59.999999'),
    new LocalDate('2026-11-20'),
    true,
    'plain',
  ],
  [
    2,
    'Kim, "Jr."',
    'Busan\nNorth',
    new Decimal('-12345678901234567890.123456789'),
    -9223372036854775808n,
    -0,
    new Instant(utc(2026, 11, 20, 14, 59, 59), '000123'),
    new WallTime('2026-11-21T00:00:00'),
    new LocalDate('2026-02-28'),
    false,
    '',
  ],
  [
    3,
    'emoji 😀 ok',
    ' spaced ',
    new Decimal('0.000'),
    0n,
    1e-7,
    new Instant(utc(2026, 11, 20, 15, 0, 0), '5'),
    new WallTime('2026-11-20T09:00:00.120'),
    null,
    null,
    null,
  ],
  [
    4,
    'line\r\nbreak',
    'tab\there',
    new Decimal('2.345'),
    42,
    Number.NaN,
    new Instant(utc(1999, 12, 31, 15, 0, 0), '999999999'),
    new WallTime('2000-01-01T00:00:00'),
    new LocalDate('2000-02-29'),
    true,
    'NULL',
  ],
  [5, 'a=b \\ c', 'x|y;z', new Decimal('-0.005'), -1, Number.POSITIVE_INFINITY, null, null, new LocalDate('2026-12-31'), false, '"'],
];

/** Korean-only rows that EUC-KR can hold (KS X 1001 syllables only). */
const KOREAN_SOURCE: SourceColumn[] = [
  { name: 'id', type: 'int' },
  { name: '이름', type: 'string' },
  { name: '주소', type: 'string' },
  { name: '금액', type: 'decimal' },
];
const KOREAN_ROWS: Value[][] = [
  [1, '홍길동', '서울특별시 중구', new Decimal('15000')],
  [2, '김철수, 주임', '부산 "해운대"', new Decimal('-2500.50')],
  [3, '', null, new Decimal('0')],
];

interface Case {
  name: string;
  format: FormatSpec;
  source?: SourceColumn[];
  rows?: Value[][];
  timezone?: string;
}

const CASES: Case[] = [
  { name: 'csv_default.csv', format: { type: 'csv' } },
  { name: 'csv_tab_crlf_noheader.tsv', format: { type: 'csv', delimiter: '\t', lineEnding: 'crlf', header: false } },
  { name: 'csv_pipe_nulltext.csv', format: { type: 'csv', delimiter: '|', nullText: 'NULL' } },
  { name: 'csv_semicolon_quoteall.csv', format: { type: 'csv', delimiter: ';', quoteAll: true } },
  { name: 'csv_utf8bom.csv', format: { type: 'csv', encoding: 'utf-8-bom' } },
  {
    name: 'csv_columns.csv',
    format: {
      type: 'csv',
      columns: [
        { name: 'id', as: 'order_id' },
        'name',
        { name: 'amount', as: 'amount_2dp', decimals: 2 },
        { name: 'ratio', decimals: 8 },
        { name: 'big', decimals: 1 },
        { name: 'created_at', as: 'created', format: 'yyyyMMdd HH:mm:ss.SSS ZZ' },
        { name: 'local_ts', as: 'local_day', type: 'date' },
        { name: 'day', format: 'yyyyMMdd', nullText: '00000000' },
        { name: 'paid', bool: ['Y', 'N'], nullText: '?' },
        { name: 'note', as: 'memo' },
      ],
    },
  },
  {
    name: 'csv_ny_dst.csv',
    format: { type: 'csv' },
    timezone: 'America/New_York',
    source: [
      { name: 'label', type: 'string' },
      { name: 'wall', type: 'timestamp' },
      { name: 'instant', type: 'timestamptz' },
      { name: 'day', type: 'date' },
    ],
    rows: [
      ['before spring gap', new WallTime('2026-03-08T01:59:59'), new Instant(utc(2026, 3, 8, 6, 59, 59), ''), new Instant(utc(2026, 3, 8, 4, 59, 59), '')],
      ['inside spring gap', new WallTime('2026-03-08T02:30:00'), new Instant(utc(2026, 3, 8, 7, 0, 0), ''), new Instant(utc(2026, 3, 8, 5, 0, 0), '')],
      ['after spring gap', new WallTime('2026-03-08T03:00:00.25'), new Instant(utc(2026, 3, 8, 7, 30, 0), '25'), new WallTime('2026-03-08T03:00:00')],
      ['ambiguous fall-back', new WallTime('2026-11-01T01:30:00'), new Instant(utc(2026, 11, 1, 5, 30, 0), ''), new LocalDate('2026-11-01')],
      ['second 01:30 (EST)', new WallTime('2026-11-01T01:30:00.000001'), new Instant(utc(2026, 11, 1, 6, 30, 0), '000001'), null],
      ['after fall-back', new WallTime('2026-11-01T02:00:00'), new Instant(utc(2026, 11, 1, 7, 0, 0), ''), null],
    ],
  },
  {
    name: 'csv_declared_types.csv',
    source: [
      { name: 'ts_text', type: 'unknown' },
      { name: 'date_text', type: 'unknown' },
      { name: 'flag', type: 'unknown' },
      { name: 'num_text', type: 'unknown' },
      { name: 'bytes', type: 'bytes' },
    ],
    format: {
      type: 'csv',
      columns: [
        { name: 'ts_text', type: 'timestamp' },
        { name: 'date_text', type: 'date' },
        { name: 'flag', type: 'bool' },
        { name: 'num_text', type: 'decimal' },
        'bytes',
      ],
    },
    rows: [
      ['2026-11-20 10:00:00', '2026-11-20', 1, '1.50', new Uint8Array([0, 1, 0xab, 0xff])],
      ['2026-11-20T10:00:00.123456Z', '2026-11-20 23:59:59', 0n, '-7', new Uint8Array([])],
      ['2026-11-20 10:00:00+0530', new Instant(utc(2026, 11, 20, 15, 0), ''), 't', '1e-7', null],
      ['2026-11-20T23:30:00-05', new WallTime('2026-11-20T23:30:00'), 'false', '+3', null],
      [new LocalDate('2026-11-20'), new LocalDate('2026-11-21'), true, 12345678901234567890n, null],
    ],
  },
  { name: 'csv_euckr.csv', format: { type: 'csv', encoding: 'euc-kr' }, source: KOREAN_SOURCE, rows: KOREAN_ROWS },
  {
    name: 'csv_cp949.csv',
    format: { type: 'csv', encoding: 'cp949', lineEnding: 'crlf', trailer: 'END|{count}|{sum:금액}' },
    source: KOREAN_SOURCE,
    // '똠' exists only in CP949 (Unified Hangul Code), not in EUC-KR.
    rows: [...KOREAN_ROWS, [4, '똠방각하', '서울', new Decimal('0.01')]],
  },
  { name: 'kv_default.log', format: { type: 'kv' } },
  {
    name: 'kv_empty_nulls.log',
    format: {
      type: 'kv',
      separator: '\t',
      nulls: 'empty',
      nullText: '-',
      columns: ['id', 'name', { name: 'amount', decimals: 1 }, { name: 'paid', bool: ['yes', 'no'] }, { name: 'note', nullText: '' }],
    },
  },
  { name: 'jsonl_default.jsonl', format: { type: 'jsonl' } },
  {
    name: 'jsonl_columns.jsonl',
    format: {
      type: 'jsonl',
      columns: [
        { name: 'id', type: 'string' },
        { name: 'amount', decimals: 3 },
        { name: 'paid', bool: ['Y', 'N'] },
        { name: 'created_at', format: 'yyyy-MM-dd' },
      ],
    },
  },
  {
    name: 'csv_trailer.csv',
    format: {
      type: 'csv',
      trailer: { template: 'TRAILER|{count}|{sum:amount}|{sum:big}|{date:yyyyMMdd}' },
      columns: ['id', 'amount', 'big'],
    },
  },
  {
    name: 'kv_trailer_crlf.log',
    format: { type: 'kv', lineEnding: 'crlf', trailer: '# rows={count} total={sum:amount} day={date}', columns: ['id', 'amount'] },
  },
  { name: 'csv_empty_with_trailer.csv', format: { type: 'csv', trailer: 'T|{count}|{sum:amount}' }, rows: [] },
  { name: 'jsonl_empty.jsonl', format: { type: 'jsonl' }, rows: [] },
];

for (const c of CASES) {
  test(`golden ${c.name}`, async () => {
    const { bytes, rows } = await encodeAll({
      format: c.format,
      source: c.source ?? SOURCE,
      rows: c.rows ?? ROWS,
      timezone: c.timezone,
    });
    assert.equal(rows, (c.rows ?? ROWS).length);
    assertGolden(c.name, bytes);
  });
}

test('large files come in ~64 KiB chunks and equal the concatenation of all rows', async () => {
  const rows: Value[][] = [];
  for (let i = 0; i < 20000; i++) rows.push([i, `name ${i}`, i % 2 ? '서울' : 'Busan, "x"', new Decimal(`${i}.5`)]);
  const source = SOURCE.slice(0, 4);
  const { bytes, chunks } = await encodeAll({ format: { type: 'csv', encoding: 'utf-8-bom' }, source, rows });
  assert.ok(chunks > 5, `expected several chunks, got ${chunks}`);
  const text = bytes.toString('utf8');
  assert.ok(text.startsWith('\ufeffid,name,city,amount\n0,name 0,Busan,"""x""",0.5\n'.replace('Busan,"""x"""', '"Busan, ""x"""')));
  assert.equal(text.split('\n').length, 20000 + 2);
  const small = await encodeAll({ format: { type: 'csv', encoding: 'utf-8-bom' }, source, rows: rows.slice(0, 3) });
  assert.ok(bytes.subarray(0, small.bytes.length).equals(small.bytes));
});
