import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateTime } from 'luxon';
import { businessDateFor, dateRange, dayWindow, parseDateArg, windowParams } from '../../src/core/dates.js';

test('yesterday and today are computed in the config zone, not the system zone', () => {
  // 2026-11-20 16:30 UTC is already 2026-11-21 01:30 in Seoul.
  const now = DateTime.fromISO('2026-11-20T16:30:00Z');
  assert.equal(businessDateFor('today', now, 'Asia/Seoul').toISODate(), '2026-11-21');
  assert.equal(businessDateFor('yesterday', now, 'Asia/Seoul').toISODate(), '2026-11-20');
  assert.equal(businessDateFor('today', now, 'UTC').toISODate(), '2026-11-20');
  assert.equal(businessDateFor(undefined, now, 'UTC').toISODate(), '2026-11-19');
});

test('a business date function gets now in the zone and is snapped to the start of the day', () => {
  const now = DateTime.fromISO('2026-11-20T16:30:00Z');
  const d = businessDateFor((n) => n.minus({ days: 3 }).set({ hour: 13 }), now, 'Asia/Seoul');
  assert.equal(d.toISO(), '2026-11-18T00:00:00.000+09:00');
  assert.throws(() => businessDateFor(() => 'x' as unknown as DateTime, now, 'UTC'), /valid luxon DateTime/);
});

test('yesterday across a DST change is the previous calendar day, not now minus 24 hours', () => {
  // 2026-03-09 00:30 in New York: 24 hours earlier is 2026-03-07 23:30 (the 8th had 23 hours).
  const now = DateTime.fromISO('2026-03-09T00:30:00', { zone: 'America/New_York' });
  assert.equal(businessDateFor('yesterday', now, 'America/New_York').toISODate(), '2026-03-08');
});

test('the business day window has 23 hours on spring-forward and 25 on fall-back days', () => {
  const spring = dayWindow(parseDateArg('2026-03-08', 'America/New_York'));
  assert.equal(spring.to.diff(spring.from, 'hours').hours, 23);
  const fall = dayWindow(parseDateArg('2026-11-01', 'America/New_York'));
  assert.equal(fall.to.diff(fall.from, 'hours').hours, 25);
  assert.deepEqual(windowParams(fall), { date: '2026-11-01', from: '2026-11-01 00:00:00', to: '2026-11-02 00:00:00' });
  const normal = dayWindow(parseDateArg('2026-11-20', 'Asia/Seoul'));
  assert.equal(normal.to.diff(normal.from, 'hours').hours, 24);
});

test('date arguments are validated', () => {
  assert.throws(() => parseDateArg('20261120', 'UTC'), /expected yyyy-MM-dd/);
  assert.throws(() => parseDateArg('2026-02-30', 'UTC'), /not a real date/);
  const r = dateRange(parseDateArg('2026-10-30', 'UTC'), parseDateArg('2026-11-02', 'UTC')).map((d) => d.toISODate());
  assert.deepEqual(r, ['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02']);
  assert.throws(() => dateRange(parseDateArg('2026-11-02', 'UTC'), parseDateArg('2026-11-01', 'UTC')), /before/);
});
