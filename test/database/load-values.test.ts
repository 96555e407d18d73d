// The value check of a load (load-values.ts): what each column kind accepts exactly, what it
// refuses, and the file lines of loaded rows (receive.ts RowLines).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { columnPreparers, intKind, preparedRows, type ColumnKind } from '../../src/database/load-values.js';
import { RowLines } from '../../src/core/receive.js';
import { RejectedRowError } from '../../src/errors.js';
import { Decimal, Instant, LocalDate, WallTime } from '../../src/values.js';
import type { Value } from '../../src/values.js';

async function prepare(kind: ColumnKind, v: Value, dialect: 'pg' | 'mysql' | 'sqlite' = 'pg'): Promise<Value> {
  async function* one(): AsyncGenerator<Value[]> {
    yield [v];
  }
  for await (const row of preparedRows(one(), columnPreparers([kind], ['c'], dialect, 'Asia/Seoul'), ['c'])) return row[0]!;
  throw new Error('no row');
}

async function refused(kind: ColumnKind, v: Value, dialect: 'pg' | 'mysql' | 'sqlite' = 'pg'): Promise<string> {
  try {
    await prepare(kind, v, dialect);
  } catch (e) {
    assert.ok(e instanceof RejectedRowError, String(e));
    assert.equal(e.row, 1);
    assert.equal(e.column, 'c');
    return e.detail;
  }
  assert.fail(`${String(v)} was accepted`);
}

describe('load value check', () => {
  test('decimals: precision and scale exactly, trailing zeros are no digits, rounding is refused', async () => {
    const k: ColumnKind = { kind: 'decimal', precision: 12, scale: 2 };
    for (const ok of ['9999999999.99', '-9999999999.99', '1.500', '0.00', '+.5', '7.', '000000000000001.1']) assert.ok((await prepare(k, new Decimal(ok))) instanceof Decimal, ok);
    assert.match(await refused(k, new Decimal('1.005')), /fraction digits.*rounded/);
    assert.match(await refused(k, new Decimal('10000000000')), /too many digits/);
    assert.match(await refused(k, new Decimal('1'.repeat(40))), /too many digits/);
    // Negative scale (PostgreSQL 15): numeric(3,-2) holds multiples of 100 up to 99900.
    const neg: ColumnKind = { kind: 'decimal', precision: 3, scale: -2 };
    assert.ok((await prepare(neg, new Decimal('99900'))) instanceof Decimal);
    assert.match(await refused(neg, new Decimal('150')), /rounded/);
  });

  test('integers: the range of the column, integral decimals become integers, fractions are refused', async () => {
    assert.equal(await prepare(intKind(32), new Decimal('2147483647')), 2147483647n);
    assert.equal(await prepare(intKind(32), new Decimal('-0012.000')), -12n);
    assert.match(await refused(intKind(32), new Decimal('99999999999')), /out of range/);
    assert.match(await refused(intKind(64), new Decimal('100000000000000000000')), /out of range/);
    assert.match(await refused(intKind(32, true), new Decimal('-1')), /out of range/);
    assert.match(await refused(intKind(16), new Decimal('1.5')), /not an integer/);
    assert.equal(await prepare(intKind(16), 'text is left to the database'), 'text is left to the database');
  });

  test('SQLite numeric affinity: int64 exactly, REALs up to 15 significant digits', async () => {
    const k: ColumnKind = { kind: 'sqlite-numeric' };
    assert.ok((await prepare(k, new Decimal('9223372036854775807'), 'sqlite')) instanceof Decimal);
    assert.match(await refused(k, new Decimal('9223372036854775808'), 'sqlite'), /64-bit/);
    assert.ok((await prepare(k, new Decimal('123456789012.345'), 'sqlite')) instanceof Decimal);
    assert.match(await refused(k, new Decimal('1234567890123.4567'), 'sqlite'), /15 significant digits/);
  });

  test('timestamps: an instant into a wall-clock column is its wall time in the config zone', async () => {
    const i = new Instant(Date.UTC(2026, 0, 15, 1, 0, 0) / 1000, '25');
    assert.deepEqual(await prepare({ kind: 'timestamp' }, i), new WallTime('2026-01-15T10:00:00.25'));
    assert.equal(await prepare({ kind: 'timestamptz' }, i), i);
    const w = new WallTime('2026-01-15T10:00:00');
    assert.equal(await prepare({ kind: 'timestamp' }, w), w);
  });

  test('year 0000 everywhere, NUL in PostgreSQL text', async () => {
    for (const d of ['pg', 'mysql', 'sqlite'] as const) {
      assert.match(await refused({ kind: 'other' }, new LocalDate('0000-01-01'), d), /year 0000/);
    }
    assert.match(await refused({ kind: 'other' }, 'a\0b', 'pg'), /NUL/);
    assert.equal(await prepare({ kind: 'other' }, 'a\0b', 'mysql'), 'a\0b');
  });
});

describe('RowLines', () => {
  test('maps load rows to file lines across gaps, with few entries', () => {
    const lines = new RowLines();
    // header on line 1; rows on 2, 3; a quoted line break makes row 3 two lines; empty line 6
    for (const l of [2, 3, 5, 7, 8, 9]) lines.add(l);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((r) => lines.lineOf(r)), [2, 3, 5, 7, 8, 9]);
    assert.equal(lines.lineOf(0), undefined);
    assert.equal(lines.lineOf(7), undefined);
    const many = new RowLines();
    for (let r = 1; r <= 100000; r++) many.add(r + 1);
    assert.equal(many.lineOf(99999), 100000);
  });
});
