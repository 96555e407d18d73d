/**
 * Readers: what the writers write must read back as the same values, for every writer option the
 * golden files cover; chunk boundaries anywhere (inside a character, a quote pair, a CRLF) must
 * not matter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { checkTrailer, decodeFile, resolveImportColumns } from '../../src/formats/index.js';
import { ZoneClock } from '../../src/formats/time.js';
import type { DecodeSummary } from '../../src/formats/types.js';
import type { FormatSpec, ImportColumnSpec, ImportFormatSpec } from '../../src/types.js';
import { Decimal, Instant, LocalDate, WallTime, type SourceColumn, type Value } from '../../src/values.js';
import { encodeAll } from './helpers.js';

const GOLDEN_DIR = new URL('../../../test/golden/formats/', import.meta.url);
const FIXTURES = new URL('../../../test/fixtures/read/', import.meta.url);
const ZONE = 'Asia/Seoul';

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Decode bytes (fed in `chunk`-byte pieces) and return rows and summary. */
async function decodeAll(
  bytes: Buffer,
  format: ImportFormatSpec,
  chunk = 1 << 16,
  timezone = ZONE,
): Promise<{ rows: { line: number; values: Value[] }[]; summary: DecodeSummary }> {
  const columns = resolveImportColumns(format);
  const summary: DecodeSummary = { rows: 0 };
  const rows: { line: number; values: Value[] }[] = [];
  for await (const r of decodeFile(chunked(bytes, chunk), { format, columns, timezone, fileName: 'in.csv' }, summary)) rows.push(r);
  return { rows, summary };
}

const clock = new ZoneClock(ZONE);

/**
 * Comparable text of a value. Timestamps are compared as instants: the writers put the zone's
 * offset on wall times, so a WallTime written out reads back as the Instant it names in the zone.
 */
function norm(v: Value, zone = clock): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `S:${v}`;
  if (typeof v === 'boolean') return `B:${v}`;
  if (typeof v === 'number') return `F:${String(v)}`;
  if (typeof v === 'bigint') return `D:${v}`;
  if (v instanceof Decimal) return `D:${v.text}`;
  if (v instanceof LocalDate) return `L:${v.text}`;
  if (v instanceof Instant) return `I:${v.epochSeconds}.${v.fraction}`;
  if (v instanceof WallTime) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(v.text)!;
    const local = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
    return `I:${zone.wallToEpoch(local)}.${(m[7] ?? '').replace(/0+$/, '')}`;
  }
  return `?:${String(v)}`;
}

/** Expected value after a round trip through text: numbers become the exact text the writer wrote. */
function expected(v: Value, type: string): string {
  if (v === null) return 'NULL';
  if (type === 'int' && (typeof v === 'number' || typeof v === 'bigint')) return `D:${v}`;
  if (type === 'float' && typeof v === 'number') return `F:${String(v === 0 ? 0 : v)}`;
  return norm(v);
}

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

/** Rows chosen to hurt: delimiters, quotes, CR/LF inside fields, Korean, emoji, NULL vs '', huge decimals. */
const ROWS: Value[][] = [
  [1, '홍길동', '서울', new Decimal('1234.50'), 9007199254740993n, 0.1, new Instant(utc(2026, 11, 20, 23, 30), ''), new WallTime('2026-11-20T23:59:59.999999'), new LocalDate('2026-11-20'), true, 'plain'],
  [2, 'Kim, "Jr."', 'Busan\nNorth', new Decimal('-12345678901234567890.123456789'), -9223372036854775808n, -0, new Instant(utc(2026, 11, 20, 14, 59, 59), '000123'), new WallTime('2026-11-21T00:00:00'), new LocalDate('2026-02-28'), false, ''],
  [3, 'emoji 😀 ok', ' spaced ', new Decimal('0.000'), 0n, 1e-7, new Instant(utc(2026, 11, 20, 15), '5'), new WallTime('2026-11-20T09:00:00.120'), null, null, null],
  [4, 'line\r\nbreak', 'tab\there', new Decimal('2.345'), 42, 1.5e300, new Instant(utc(1999, 12, 31, 15), '999999999'), new WallTime('2000-01-01T00:00:00'), new LocalDate('2000-02-29'), true, 'NULL'],
  [5, 'a=b \\ c', 'x|y;z', new Decimal('-0.005'), -1, -2.5, null, null, new LocalDate('2026-12-31'), false, '"'],
  [6, '"quoted"', '\\u0041 \u0001 \u007f', new Decimal('+7'), 7, 3, new Instant(-1, '5'), new WallTime('1969-12-31T23:59:59.5'), new LocalDate('1900-01-01'), true, ' '],
];

const TYPES: Record<string, string> = Object.fromEntries(SOURCE.map((c) => [c.name, c.type]));

/** Import columns matching SOURCE: everything nullable except id. */
function importColumns(names: string[] = SOURCE.map((c) => c.name)): Record<string, ImportColumnSpec> {
  return Object.fromEntries(names.map((n) => [n, { type: TYPES[n] as ImportColumnSpec['type'], nullable: n !== 'id' }]));
}

interface RoundTrip {
  name: string;
  write: FormatSpec;
  read: ImportFormatSpec;
  source?: SourceColumn[];
  rows?: Value[][];
  types?: Record<string, string>;
}

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
const KOREAN_READ = {
  id: 'int',
  이름: { type: 'string', nullable: true },
  주소: { type: 'string', nullable: true },
  금액: 'decimal',
} as const;
const KOREAN_TYPES = { id: 'int', 이름: 'string', 주소: 'string', 금액: 'decimal' };

const ROUND_TRIPS: RoundTrip[] = [
  { name: 'csv default', write: { type: 'csv' }, read: { type: 'csv', columns: importColumns() } },
  {
    name: 'csv tab, crlf, no header',
    write: { type: 'csv', delimiter: '\t', lineEnding: 'crlf', header: false },
    read: { type: 'csv', delimiter: '\t', header: false, columns: importColumns() },
  },
  { name: 'csv pipe, nullText', write: { type: 'csv', delimiter: '|', nullText: 'NULL' }, read: { type: 'csv', delimiter: '|', nullText: 'NULL', columns: importColumns() } },
  { name: 'csv semicolon, quoteAll', write: { type: 'csv', delimiter: ';', quoteAll: true }, read: { type: 'csv', delimiter: ';', columns: importColumns() } },
  { name: 'csv utf-8-bom', write: { type: 'csv', encoding: 'utf-8-bom' }, read: { type: 'csv', encoding: 'utf-8-bom', columns: importColumns() } },
  { name: 'csv utf-8-bom read as utf-8', write: { type: 'csv', encoding: 'utf-8-bom', lineEnding: 'crlf' }, read: { type: 'csv', columns: importColumns() } },
  {
    name: 'csv euc-kr',
    write: { type: 'csv', encoding: 'euc-kr' },
    read: { type: 'csv', encoding: 'euc-kr', columns: KOREAN_READ },
    source: KOREAN_SOURCE,
    rows: KOREAN_ROWS,
    types: KOREAN_TYPES,
  },
  {
    name: 'csv cp949, crlf, trailer',
    write: { type: 'csv', encoding: 'cp949', lineEnding: 'crlf', trailer: 'END|{count}|{sum:금액}' },
    read: { type: 'csv', encoding: 'cp949', trailer: 'END|{count}|{sum:금액}', columns: KOREAN_READ },
    source: KOREAN_SOURCE,
    rows: [...KOREAN_ROWS, [4, '똠방각하', '서울', new Decimal('0.01')]],
    types: KOREAN_TYPES,
  },
  { name: 'kv default', write: { type: 'kv' }, read: { type: 'kv', columns: importColumns() } },
  { name: 'kv tab, NULL pairs written', write: { type: 'kv', separator: '\t', nulls: 'empty' }, read: { type: 'kv', separator: '\t', columns: importColumns() } },
  { name: 'kv crlf, trailer', write: { type: 'kv', lineEnding: 'crlf', trailer: '# rows={count} total={sum:amount} day={date}' }, read: { type: 'kv', trailer: '# rows={count} total={sum:amount} day={date}', columns: importColumns() } },
  { name: 'jsonl default', write: { type: 'jsonl' }, read: { type: 'jsonl', columns: importColumns() } },
  { name: 'jsonl crlf', write: { type: 'jsonl', lineEnding: 'crlf' }, read: { type: 'jsonl', columns: importColumns() } },
  {
    name: 'csv trailer with sums',
    write: { type: 'csv', trailer: { template: 'TRAILER|{count}|{sum:amount}|{sum:big}|{date:yyyyMMdd}' } },
    read: { type: 'csv', trailer: 'TRAILER|{count}|{sum:amount}|{sum:big}|{date:yyyyMMdd}', columns: importColumns() },
  },
];

for (const c of ROUND_TRIPS) {
  test(`round trip: ${c.name}`, async () => {
    const source = c.source ?? SOURCE;
    const rows = c.rows ?? ROWS;
    const types = c.types ?? TYPES;
    const { bytes } = await encodeAll({ format: c.write, source, rows, timezone: ZONE });
    // Whole, and in pieces small enough to split every character, quote pair and CRLF.
    for (const size of [1 << 16, 1, 2, 3, 7]) {
      const { rows: got, summary } = await decodeAll(bytes, c.read, size);
      assert.equal(summary.rows, rows.length, `rows with ${size}-byte chunks`);
      assert.equal(got.length, rows.length);
      got.forEach((r, i) => {
        const want = rows[i]!.map((v, k) => expected(v, types[source[k]!.name]!));
        assert.deepEqual(r.values.map((v) => norm(v)), want, `row ${i + 1} with ${size}-byte chunks`);
      });
      if (c.read.trailer) {
        assert.ok(summary.trailer, 'trailer text');
        assert.deepEqual(checkTrailer(c.read.trailer, summary.trailer, { rows: summary.rows, sums: summary.sums! }), []);
      }
    }
  });
}

test('line numbers are physical lines where records start, across quoted line breaks', async () => {
  const { bytes } = await encodeAll({ format: { type: 'csv' }, source: SOURCE, rows: ROWS, timezone: ZONE });
  const { rows } = await decodeAll(bytes, { type: 'csv', columns: importColumns() }, 5);
  // Row 2 holds 'Busan\nNorth' (2 lines), row 4 'line\r\nbreak' (2 lines).
  assert.deepEqual(
    rows.map((r) => r.line),
    [2, 3, 5, 6, 8, 9],
  );
});

/** Import formats for the golden files. Everything nullable; columns the writer wrote NaN/'-' into are strings. */
const S = { type: 'string', nullable: true } as const;
const n = (type: ImportColumnSpec['type'], extra: Partial<ImportColumnSpec> = {}): ImportColumnSpec => ({ type, nullable: true, ...extra });
const DEFAULT_COLUMNS = {
  id: 'int',
  name: S,
  city: S,
  amount: n('decimal'),
  big: n('int'),
  ratio: S,
  created_at: n('timestamptz'),
  local_ts: n('timestamp'),
  day: n('date'),
  paid: n('bool'),
  note: S,
} as const;

const GOLDEN: { file: string; format: ImportFormatSpec; rows: number }[] = [
  { file: 'csv_default.csv', format: { type: 'csv', columns: DEFAULT_COLUMNS }, rows: 5 },
  { file: 'csv_tab_crlf_noheader.tsv', format: { type: 'csv', delimiter: '\t', header: false, columns: DEFAULT_COLUMNS }, rows: 5 },
  { file: 'csv_pipe_nulltext.csv', format: { type: 'csv', delimiter: '|', nullText: 'NULL', columns: DEFAULT_COLUMNS }, rows: 5 },
  { file: 'csv_semicolon_quoteall.csv', format: { type: 'csv', delimiter: ';', columns: DEFAULT_COLUMNS }, rows: 5 },
  { file: 'csv_utf8bom.csv', format: { type: 'csv', encoding: 'utf-8-bom', columns: DEFAULT_COLUMNS }, rows: 5 },
  { file: 'kv_default.log', format: { type: 'kv', columns: DEFAULT_COLUMNS }, rows: 5 },
  { file: 'jsonl_default.jsonl', format: { type: 'jsonl', columns: DEFAULT_COLUMNS }, rows: 5 },
];

test('the golden files of one row set all read back as the same values', async () => {
  const results: string[][][] = [];
  for (const g of GOLDEN) {
    const bytes = readFileSync(new URL(g.file, GOLDEN_DIR));
    const { rows } = await decodeAll(bytes, g.format, 13);
    assert.equal(rows.length, g.rows, g.file);
    results.push(rows.map((r) => r.values.map((v) => norm(v))));
  }
  for (let i = 1; i < results.length; i++) assert.deepEqual(results[i], results[0], `${GOLDEN[i]!.file} vs ${GOLDEN[0]!.file}`);
  const [r1, r2, r3, r4, r5] = results[0]!;
  assert.deepEqual(r1!.slice(0, 6), ['D:1', 'S:홍길동', 'S:서울', 'D:1234.50', 'D:9007199254740993', 'S:0.1']);
  assert.equal(r2![2], 'S:Busan\nNorth');
  assert.equal(r2![3], 'D:-12345678901234567890.123456789');
  assert.equal(r2![4], 'D:-9223372036854775808');
  assert.equal(r2![6], `I:${utc(2026, 11, 20, 14, 59, 59)}.000123`);
  assert.equal(r2![10], 'S:', "'' stays an empty string");
  assert.deepEqual(r3!.slice(8), ['NULL', 'NULL', 'NULL'], 'NULLs stay NULL');
  assert.equal(r3![1], 'S:emoji 😀 ok');
  assert.equal(r4![1], 'S:line\r\nbreak');
  assert.equal(r4![6], `I:${utc(1999, 12, 31, 15)}.999999999`);
  assert.equal(r4![10], 'S:NULL', "the text 'NULL' is not NULL");
  assert.equal(r5![10], 'S:"');
});

test('golden files with other options read back', async () => {
  const korean = { type: 'csv', columns: KOREAN_READ } as const;
  const euc = await decodeAll(readFileSync(new URL('csv_euckr.csv', GOLDEN_DIR)), { ...korean, encoding: 'euc-kr' }, 3);
  assert.deepEqual(
    euc.rows.map((r) => r.values.map((v) => norm(v))),
    [
      ['D:1', 'S:홍길동', 'S:서울특별시 중구', 'D:15000'],
      ['D:2', 'S:김철수, 주임', 'S:부산 "해운대"', 'D:-2500.50'],
      ['D:3', 'S:', 'NULL', 'D:0'],
    ],
  );

  const cpFormat = { ...korean, encoding: 'cp949', trailer: 'END|{count}|{sum:금액}' } as const;
  const cp = await decodeAll(readFileSync(new URL('csv_cp949.csv', GOLDEN_DIR)), cpFormat, 1);
  assert.equal(cp.rows.length, 4);
  assert.equal(norm(cp.rows[3]!.values[1]!), 'S:똠방각하');
  assert.equal(cp.summary.trailer, 'END|4|12499.51');
  assert.deepEqual([...cp.summary.sums!], [['금액', '12499.51']]);
  assert.deepEqual(checkTrailer(cpFormat.trailer, cp.summary.trailer, { rows: cp.summary.rows, sums: cp.summary.sums! }), []);

  const trailerFormat = { type: 'csv', trailer: 'TRAILER|{count}|{sum:amount}|{sum:big}|{date:yyyyMMdd}', columns: { id: 'int', amount: 'decimal', big: 'int' } } as const;
  const tr = await decodeAll(readFileSync(new URL('csv_trailer.csv', GOLDEN_DIR)), trailerFormat);
  assert.equal(tr.summary.rows, 5);
  assert.deepEqual(Object.fromEntries(tr.summary.sums!), { amount: '-12345678901234566653.283456789', big: '-9214364837600034774' });
  assert.deepEqual(checkTrailer(trailerFormat.trailer, tr.summary.trailer, { rows: tr.summary.rows, sums: tr.summary.sums! }), []);

  const empty = await decodeAll(readFileSync(new URL('csv_empty_with_trailer.csv', GOLDEN_DIR)), {
    type: 'csv',
    trailer: 'T|{count}|{sum:amount}',
    columns: DEFAULT_COLUMNS,
  });
  assert.equal(empty.summary.rows, 0);
  assert.equal(empty.summary.trailer, 'T|0|0');
  assert.deepEqual(checkTrailer('T|{count}|{sum:amount}', empty.summary.trailer, { rows: 0, sums: empty.summary.sums! }), []);

  const kvTrailer = { type: 'kv', trailer: '# rows={count} total={sum:amount} day={date}', columns: { id: 'int', amount: 'decimal' } } as const;
  const kv = await decodeAll(readFileSync(new URL('kv_trailer_crlf.log', GOLDEN_DIR)), kvTrailer, 4);
  assert.equal(kv.rows.length, 5);
  assert.deepEqual(checkTrailer(kvTrailer.trailer, kv.summary.trailer, { rows: kv.summary.rows, sums: kv.summary.sums! }), []);

  // kv with NULL pairs written as `key=` and a null text the import side reads as text.
  const kvNulls = await decodeAll(readFileSync(new URL('kv_empty_nulls.log', GOLDEN_DIR)), {
    type: 'kv',
    separator: '\t',
    columns: { id: 'int', name: S, amount: n('decimal'), paid: S, note: S },
  });
  assert.deepEqual(
    kvNulls.rows.map((r) => r.values.map((v) => norm(v))[4]),
    ['S:plain', 'S:', 'NULL', 'S:NULL', 'S:"'],
  );
  assert.equal(norm(kvNulls.rows[2]!.values[3]!), 'S:-');

  const jsonCols = await decodeAll(readFileSync(new URL('jsonl_columns.jsonl', GOLDEN_DIR)), {
    type: 'jsonl',
    columns: { id: 'string', amount: 'decimal', paid: n('bool'), created_at: n('date') },
  });
  assert.deepEqual(
    jsonCols.rows[1]!.values.map((v) => norm(v)),
    ['S:2', 'D:-12345678901234567890.123', 'B:false', 'L:2026-11-20'],
  );
  assert.equal((await decodeAll(readFileSync(new URL('jsonl_empty.jsonl', GOLDEN_DIR)), { type: 'jsonl', columns: { id: 'int' } })).rows.length, 0);

  // luxon formats: an offset in the format gives instants; 'yyyyMMdd' dates.
  const cols = await decodeAll(readFileSync(new URL('csv_columns.csv', GOLDEN_DIR)), {
    type: 'csv',
    columns: {
      order_id: 'int',
      name: S,
      amount_2dp: 'decimal',
      ratio: S,
      big: 'decimal',
      created: n('timestamptz', { format: 'yyyyMMdd HH:mm:ss.SSS ZZ' }),
      local_day: n('date'),
      day: S,
      // Written with bool ['Y', 'N'] and its own null text '?', which the import side reads as text.
      paid: S,
      memo: S,
    },
  });
  assert.equal(cols.rows.length, 5);
  assert.equal(norm(cols.rows[0]!.values[5]!), `I:${utc(2026, 11, 20, 23, 30)}.`);
  assert.equal(norm(cols.rows[2]!.values[5]!), `I:${utc(2026, 11, 20, 15)}.5`);
  assert.deepEqual(cols.rows.map((r) => r.values[8]), ['Y', 'N', '?', 'Y', 'N']);
  assert.deepEqual(cols.rows[0]!.values[2], new Decimal('1234.50'));

  const declared = await decodeAll(readFileSync(new URL('csv_declared_types.csv', GOLDEN_DIR)), {
    type: 'csv',
    columns: { ts_text: 'timestamptz', date_text: 'date', flag: 'bool', num_text: 'string', bytes: S },
  });
  assert.equal(declared.rows.length, 5);

  const dst = await decodeAll(readFileSync(new URL('csv_ny_dst.csv', GOLDEN_DIR)), {
    type: 'csv',
    columns: { label: 'string', wall: 'timestamp', instant: 'timestamptz', day: n('date') },
  }, 1 << 16, 'America/New_York');
  assert.equal(norm(dst.rows[4]!.values[2]!), `I:${utc(2026, 11, 1, 6, 30)}.000001`);
});

test('fixture: a CP949 settlement file with a trailer', async () => {
  const format: ImportFormatSpec = {
    type: 'csv',
    encoding: 'cp949',
    trailer: 'END|{count}|{sum:금액}',
    columns: { 정산번호: { type: 'string', as: 'settlement_id' }, 가맹점: S, 금액: 'decimal', 정산일: { type: 'date', format: 'yyyyMMdd' } },
  };
  const { rows, summary } = await decodeAll(readFileSync(new URL('settlement_cp949.csv', FIXTURES)), format, 2);
  assert.deepEqual(
    rows.map((r) => r.values.map((v) => norm(v))),
    [
      ['S:S-001', 'S:똠방각하, 본점', 'D:15000', 'L:2026-11-20'],
      ['S:S-002', 'S:서울 중구', 'D:-2500.50', 'L:2026-11-20'],
      ['S:S-003', 'S:', 'D:0.01', 'L:2026-11-21'],
    ],
  );
  assert.deepEqual(checkTrailer(format.trailer!, summary.trailer, { rows: summary.rows, sums: summary.sums! }), []);
});

test('fixture: jsonl numbers are read exactly, not through a float', async () => {
  const format: ImportFormatSpec = { type: 'jsonl', columns: { id: 'int', amount: 'decimal', paid: n('bool'), at: n('timestamptz') } };
  const { rows } = await decodeAll(readFileSync(new URL('orders.jsonl', FIXTURES)), format);
  assert.deepEqual(
    rows.map((r) => [r.line, ...r.values.map((v) => norm(v))]),
    [
      [1, 'D:1', 'D:12345678901234567890.123', 'B:true', `I:${utc(2026, 11, 20, 1)}.000001`],
      [2, 'D:2', 'D:-0.10', 'B:false', 'NULL'],
      [4, 'D:3', 'D:1500', 'NULL', `I:${utc(2026, 11, 20, 1)}.`],
    ],
  );
});

test('csv details: mixed line endings, empty lines, NULL vs "", nullText, header order free', async () => {
  const text = 'b,a\r\n"x",1\n\n"",2\r\n,3\n\r\n"NULL",NULL\n';
  const { rows } = await decodeAll(Buffer.from(text), { type: 'csv', nullText: 'NULL', columns: { a: n('int'), b: S } }, 1);
  assert.deepEqual(
    rows.map((r) => [r.line, ...r.values.map((v) => norm(v))]),
    [
      [2, 'D:1', 'S:x'],
      [4, 'D:2', 'S:'],
      [5, 'D:3', 'S:'],
      [7, 'NULL', 'S:NULL'],
    ],
  );
  // With the default null text, an unquoted empty field is NULL and "" is ''.
  const d = await decodeAll(Buffer.from('a,b\n1,\n2,""\n'), { type: 'csv', columns: { a: 'int', b: S } });
  assert.deepEqual(d.rows.map((r) => r.values[1]), [null, '']);
  // A one-column file writes NULL as an empty line; it reads back as NULL.
  const one = await decodeAll(Buffer.from('v\nx\n\n""\n'), { type: 'csv', columns: { v: S } });
  assert.deepEqual(one.rows.map((r) => r.values[0]), ['x', null, '']);
});

test('value types: accepted spellings', async () => {
  const format: ImportFormatSpec = {
    type: 'csv',
    header: false,
    columns: {
      i: 'int',
      d: 'decimal',
      f: 'float',
      b: 'bool',
      dt: 'date',
      ts: 'timestamp',
      tz: 'timestamptz',
      dtf: { type: 'date', format: 'yyyyMMdd' },
      tsf: { type: 'timestamp', format: 'yyyy/MM/dd HH:mm' },
      tzf: { type: 'timestamptz', format: 'yyyyMMddHHmmss' },
    },
  };
  const text = [
    '-007,-.5,1e-7,YES,2024-02-29,2026-11-20 10:00:00,2026-11-20T10:00:00.123456Z,20240229,2026/11/20 10:30,20261120103000',
    '+12345678901234567890,12345678901234567890.000100,-0,f,2026-01-01,2026-11-20T10:00:00.5+09:00,2026-11-20 10:00:00+0530,20260101,2026/03/08 02:30,20260308023000',
  ].join('\n');
  const { rows } = await decodeAll(Buffer.from(text), format, 1 << 16, 'America/New_York');
  assert.deepEqual(rows[0]!.values.map((v) => norm(v)).slice(0, 5), ['D:-007', 'D:-.5', 'F:1e-7', 'B:true', 'L:2024-02-29']);
  assert.ok(rows[0]!.values[5] instanceof WallTime && rows[0]!.values[5].text === '2026-11-20T10:00:00');
  assert.deepEqual(rows[0]!.values[6], new Instant(utc(2026, 11, 20, 10), '123456'));
  assert.deepEqual(rows[0]!.values[7], new LocalDate('2024-02-29'));
  assert.deepEqual(rows[0]!.values[8], new WallTime('2026-11-20T10:30:00'));
  // A format without an offset is read in the configured zone (New York, EST = -05:00).
  assert.deepEqual(rows[0]!.values[9], new Instant(utc(2026, 11, 20, 15, 30), ''));
  assert.deepEqual(rows[1]!.values.map((v) => norm(v)).slice(0, 5), ['D:+12345678901234567890', 'D:12345678901234567890.000100', 'F:0', 'B:false', 'L:2026-01-01']);
  assert.deepEqual(rows[1]!.values[5], new Instant(utc(2026, 11, 20, 1), '5'), 'an offset makes a timestamp an instant');
  assert.deepEqual(rows[1]!.values[6], new Instant(utc(2026, 11, 20, 4, 30), ''));
  // 02:30 on the spring-forward day does not exist in New York; read as the writers do (03:30 EDT).
  assert.deepEqual(rows[1]!.values[9], new Instant(utc(2026, 3, 8, 7, 30), ''));
});

test('resolveImportColumns: defaults, and every problem at once', () => {
  assert.deepEqual(resolveImportColumns({ type: 'csv', columns: { id: 'int', amt: { type: 'decimal', as: 'amount', nullable: true }, d: { type: 'date', format: 'yyyyMMdd' } } }), [
    { key: 'id', target: 'id', type: 'int', nullable: false },
    { key: 'amt', target: 'amount', type: 'decimal', nullable: true },
    { key: 'd', target: 'd', type: 'date', nullable: false, format: 'yyyyMMdd' },
  ]);
  assert.throws(
    () =>
      resolveImportColumns({
        type: 'csv',
        header: false,
        trailer: 'T|{count}|{sum:nope}|{cnt}',
        columns: {
          a: 'money' as never,
          b: { type: 'int', format: 'yyyy' },
          '': 'string',
          x: 'string',
          c: { type: 'string', as: 'x' },
          '7': 'string',
          e: { type: 'int', nulable: true } as never,
        },
      }),
    (e: unknown) => {
      const problems = (e as { problems: string[] }).problems;
      const expectSome = [
        "format.columns.a: unknown type 'money'",
        "format.columns.b: 'format' applies only to date",
        'format.columns: a column name must not be empty',
        "format.columns.c: loads into 'x'",
        "format.columns.7: a headerless csv",
        "format.columns.e: unknown option 'nulable'",
        "format.trailer: unknown placeholder '{cnt}'",
        'format.trailer: {sum:nope} names no column',
      ];
      for (const s of expectSome) assert.ok(problems.some((p) => p.startsWith(s)), `missing: ${s}\n${problems.join('\n')}`);
      return true;
    },
  );
  assert.throws(() => resolveImportColumns({ type: 'kv', columns: { 'a b': 'string' } }), /cannot be read as a kv key/);
  assert.throws(() => resolveImportColumns({ type: 'csv', delimiter: '"', columns: { a: 'string' } }), /format\.delimiter/);
});

test('a Node Readable works as input', async () => {
  const format: ImportFormatSpec = { type: 'csv', columns: { a: 'int' } };
  const summary: DecodeSummary = { rows: 0 };
  const got: Value[] = [];
  const input = Readable.from([Buffer.from('a\n1\n'), Buffer.from('2\n')]);
  for await (const r of decodeFile(input, { format, columns: resolveImportColumns(format), timezone: 'UTC', fileName: 'x' }, summary)) got.push(r.values[0]!);
  assert.deepEqual(got.map((v) => norm(v)), ['D:1', 'D:2']);
  assert.equal(summary.rows, 2);
});

test('fuzz: random text through every writer and back, split at random chunk sizes', async () => {
  // A small deterministic generator, so a failure can be replayed.
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = ['a', 'Z', '0', ' ', ',', ';', '|', '\t', '"', "'", '\r', '\n', '\r\n', '=', '\\', '가', '😀', '\u0001', '\u007f', 'NULL', '-', '.'];
  const text = (): string | null => {
    const r = rand(12);
    if (r === 0) return null;
    if (r === 1) return '';
    let s = '';
    for (let i = rand(8); i >= 0; i--) s += alphabet[rand(alphabet.length)];
    return s;
  };
  const source: SourceColumn[] = [
    { name: 'id', type: 'int' },
    { name: 's1', type: 'string' },
    { name: 's2', type: 'string' },
    { name: 'amount', type: 'decimal' },
  ];
  const rows: Value[][] = [];
  for (let i = 0; i < 300; i++) {
    const amount = rand(5) === 0 ? null : new Decimal(`${rand(2) ? '-' : ''}${rand(100000)}.${String(rand(1000)).padStart(3, '0')}`);
    rows.push([i, text(), text(), amount]);
  }
  const columns = { id: 'int', s1: S, s2: S, amount: n('decimal') } as const;
  const cases: [FormatSpec, ImportFormatSpec][] = [
    [{ type: 'csv' }, { type: 'csv', columns }],
    [{ type: 'csv', delimiter: ';', lineEnding: 'crlf', header: false }, { type: 'csv', delimiter: ';', header: false, columns }],
    [{ type: 'csv', delimiter: '\t', quoteAll: true }, { type: 'csv', delimiter: '\t', columns }],
    [{ type: 'csv', delimiter: '|', nullText: 'NULL' }, { type: 'csv', delimiter: '|', nullText: 'NULL', columns }],
    [{ type: 'kv' }, { type: 'kv', columns }],
    [{ type: 'kv', separator: ' | ', nulls: 'empty', lineEnding: 'crlf' }, { type: 'kv', separator: ' | ', columns }],
    [{ type: 'jsonl' }, { type: 'jsonl', columns }],
  ];
  for (const [write, read] of cases) {
    const { bytes } = await encodeAll({ format: write, source, rows, timezone: ZONE });
    const size = 1 + rand(200);
    const { rows: got } = await decodeAll(bytes, read, size);
    assert.equal(got.length, rows.length, `${JSON.stringify(write)}, ${size}-byte chunks`);
    got.forEach((r, i) => {
      const want = rows[i]!.map((v, k) => expected(v, source[k]!.type));
      assert.deepEqual(r.values.map((v) => norm(v)), want, `${JSON.stringify(write)} row ${i + 1}, ${size}-byte chunks`);
    });
  }
});
