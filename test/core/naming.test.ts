import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateTime } from 'luxon';
import { checkNameRule, renderName, unsafeNameReason, usesSeq } from '../../src/core/naming.js';

const ctx = {
  job: 'orders-daily',
  date: DateTime.fromISO('2026-11-20', { zone: 'Asia/Seoul' }),
  seq: 7,
  now: DateTime.fromISO('2026-11-21T06:00:05', { zone: 'Asia/Seoul' }),
};

test('placeholders render from the business date, job, seq and clock', () => {
  assert.equal(renderName('orders_{date:yyyyMMdd}.csv', ctx), 'orders_20261120.csv');
  assert.equal(renderName('{job}_{date:yyyy-MM-dd}_{seq:000}.csv', ctx), 'orders-daily_2026-11-20_007.csv');
  assert.equal(renderName('x_{seq}.csv', ctx), 'x_7.csv');
  assert.equal(renderName('x_{now:yyyyMMddHHmmss}.csv', ctx), 'x_20261121060005.csv');
  assert.equal(renderName('{date}.csv', ctx), '20261120.csv');
  assert.equal(renderName('{file}.done', { ...ctx, file: 'a.csv' }), 'a.csv.done');
});

test('rules are checked before anything runs, reporting every problem', () => {
  assert.deepEqual(checkNameRule('orders_{date:yyyyMMdd}.csv', false), []);
  assert.match(checkNameRule('orders_{dat:yyyy}.csv', false).join(), /unknown placeholder \{dat\}/);
  assert.match(checkNameRule('{file}.done', false).join(), /only allowed in doneFile/);
  assert.deepEqual(checkNameRule('{file}.done', true), []);
  assert.match(checkNameRule('out/{date}.csv', false).join(), /path separator/);
  assert.match(checkNameRule('{date:yyyy/MM}.csv', false).join(), /path separator/);
  assert.match(checkNameRule('x_{seq:abc}.csv', false).join(), /zeros/);
  assert.match(checkNameRule('x_{date.csv', false).join(), /unbalanced/);
  assert.match(checkNameRule('', false).join(), /empty/);
});

test('unsafe rendered names are refused', () => {
  assert.equal(unsafeNameReason('orders.csv'), undefined);
  assert.match(unsafeNameReason('..')!, /not a file name/);
  assert.match(unsafeNameReason('a/../b')!, /separator/);
  assert.match(unsafeNameReason('a..b')!, /'\.\.'/);
  assert.match(unsafeNameReason('a\\b')!, /separator/);
  assert.match(unsafeNameReason('a\nb')!, /control character/);
  assert.match(unsafeNameReason('a\u0000b')!, /control character/);
  assert.throws(() => renderName('{job}.csv', { ...ctx, job: '../etc' }), /unsafe name/);
});

test('usesSeq tells whether a rule numbers its files', () => {
  assert.equal(usesSeq('a_{seq}.csv'), true);
  assert.equal(usesSeq('a_{seq:000}.csv'), true);
  assert.equal(usesSeq('a_{date}.csv'), false);
});
