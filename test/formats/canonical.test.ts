/** canonicalText: the value contract the PostgreSQL fast path reproduces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalText, type ResolvedColumn } from '../../src/formats/index.js';
import { FormatError } from '../../src/errors.js';
import { Decimal, Instant, LocalDate, WallTime } from '../../src/values.js';

const col = (type: ResolvedColumn['type'], extra: Partial<ResolvedColumn> = {}): ResolvedColumn => ({ source: 'c', index: 0, key: 'c', type, ...extra });
const utc = (iso: string): number => Date.parse(iso) / 1000;

test('scalars', () => {
  const s = col('unknown');
  assert.equal(canonicalText(null, s, 'UTC'), null);
  assert.equal(canonicalText('', s, 'UTC'), '');
  assert.equal(canonicalText(true, s, 'UTC'), 'true');
  assert.equal(canonicalText(-0, s, 'UTC'), '0');
  assert.equal(canonicalText(0.1 + 0.2, s, 'UTC'), '0.30000000000000004');
  assert.equal(canonicalText(Number.NEGATIVE_INFINITY, s, 'UTC'), '-Infinity');
  assert.equal(canonicalText(2n ** 64n, s, 'UTC'), '18446744073709551616');
  assert.equal(canonicalText(new Decimal('1.50'), s, 'UTC'), '1.50');
  assert.equal(canonicalText(new Uint8Array([0xde, 0xad, 0x0b]), s, 'UTC'), '\\xdead0b');
  assert.equal(canonicalText(new LocalDate('2026-11-20'), s, 'UTC'), '2026-11-20');
});

test('timestamps: offsets, fractions, UTC as +00:00', () => {
  const t = col('timestamptz');
  assert.equal(canonicalText(new Instant(utc('2026-11-20T23:30:00Z'), ''), t, 'UTC'), '2026-11-20T23:30:00+00:00');
  assert.equal(canonicalText(new Instant(utc('2026-11-20T23:30:00Z'), '120000'), t, 'Asia/Seoul'), '2026-11-21T08:30:00.12+09:00');
  assert.equal(canonicalText(new Instant(utc('2026-11-20T23:30:00Z'), '000001'), t, 'Asia/Kolkata'), '2026-11-21T05:00:00.000001+05:30');
  assert.equal(canonicalText(new Instant(utc('2026-06-01T00:00:00Z'), ''), t, 'America/St_Johns'), '2026-05-31T21:30:00-02:30');
  assert.equal(canonicalText(new Instant(utc('1969-12-31T23:59:59Z'), '5'), t, 'UTC'), '1969-12-31T23:59:59.5+00:00');
  assert.equal(canonicalText(new WallTime('2026-03-08T02:30:00'), t, 'America/New_York'), '2026-03-08T03:30:00-04:00');
  assert.equal(canonicalText(new WallTime('2026-11-01T01:30:00.100'), t, 'America/New_York'), '2026-11-01T01:30:00.1-05:00');
  assert.equal(canonicalText(new WallTime('2026-07-01T12:00:00.000000000'), t, 'Europe/London'), '2026-07-01T12:00:00+01:00');
  // Southern hemisphere DST: 2026-10-04 02:00 → 03:00 in Sydney.
  assert.equal(canonicalText(new WallTime('2026-10-04T02:15:00'), t, 'Australia/Sydney'), '2026-10-04T03:15:00+11:00');
  assert.equal(canonicalText(new WallTime('2026-04-05T02:30:00'), t, 'Australia/Sydney'), '2026-04-05T02:30:00+10:00');
});

test('date columns take the date in the zone', () => {
  const d = col('date');
  assert.equal(canonicalText(new Instant(utc('2026-11-20T23:30:00Z'), ''), d, 'Asia/Seoul'), '2026-11-21');
  assert.equal(canonicalText(new Instant(utc('2026-11-20T23:30:00Z'), ''), d, 'America/New_York'), '2026-11-20');
  assert.equal(canonicalText('2026-11-20T23:30:00Z', d, 'Asia/Seoul'), '2026-11-20');
  assert.equal(canonicalText(new LocalDate('2024-02-29'), col('date', { format: 'dd LLL yyyy, EEE' }), 'UTC'), '29 Feb 2024, Thu');
});

test('bool columns accept integer and text spellings', () => {
  const b = col('bool', { bool: ['Y', 'N'] });
  for (const v of [true, 1, 1n, 't', 'true', 'TRUE', '1', new Decimal('1')]) assert.equal(canonicalText(v, b, 'UTC'), 'Y');
  for (const v of [false, 0, 0n, 'f', 'false', '0']) assert.equal(canonicalText(v, b, 'UTC'), 'N');
  assert.throws(() => canonicalText(2, b, 'UTC'), (e: unknown) => e instanceof FormatError && /column 'c': 2 is not a boolean/.test(e.message));
});

test('the system zone is never used', () => {
  assert.throws(() => canonicalText(new Instant(0, ''), col('timestamptz'), 'local'), /not a known IANA time zone/);
});
