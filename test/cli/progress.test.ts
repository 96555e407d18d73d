import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { terminalProgress } from '../../src/cli/progress.js';

function fakeTerminal() {
  const writes: string[] = [];
  const stream = { columns: 200, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

test('a transfer bar shows percent, bytes, rate and ETA, redrawn in place and cleared at the end', async () => {
  const { stream, writes } = fakeTerminal();
  const bar = terminalProgress(stream).start('partner:in/orders.csv', 10 * 1024 * 1024, 'bytes');
  bar.update(1024);
  assert.equal(writes.length, 0, 'nothing drawn for transfers that finish quickly');
  await sleep(350);
  bar.update(5 * 1024 * 1024);
  assert.equal(writes.length, 1);
  // eslint-disable-next-line no-control-regex -- the terminal escape is what is being checked
  assert.match(writes[0]!, /^\r\x1b\[Kpartner:in\/orders\.csv {2}\[#{12}-{12}\] {2}50% {2}5\.0 MiB\/10\.0 MiB {2}ETA \d+s {2}[\d.]+ (KiB|MiB)\/s$/);
  bar.update(6 * 1024 * 1024);
  assert.equal(writes.length, 1, 'at most ten redraws a second');
  bar.done();
  assert.equal(writes.at(-1), '\r\x1b[K');
});

test('a query bar counts rows when the total is unknown', async () => {
  const { stream, writes } = fakeTerminal();
  const bar = terminalProgress(stream).start('orders_20261120.csv', undefined, 'rows');
  await sleep(350);
  bar.update(123456);
  assert.match(writes[0]!, /orders_20261120\.csv {2}123,456 rows {2}[\d,]+ rows\/s$/);
  bar.done();
});
