import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, withRetry } from '../../src/core/retry.js';
import { TransferError } from '../../src/errors.js';

const fast = { tries: 4, baseDelayMs: 1, maxDelayMs: 5 };

test('backoff doubles up to the ceiling, with full jitter', () => {
  const p = { tries: 9, baseDelayMs: 1000, maxDelayMs: 30_000 };
  assert.equal(backoffDelay(1, p, () => 0.999999), 999);
  assert.equal(backoffDelay(3, p, () => 0.999999), 3999);
  assert.equal(backoffDelay(8, p, () => 0.999999), 29_999);
  assert.equal(backoffDelay(3, p, () => 0), 0);
});

test('transient transfer errors are retried until they succeed', async () => {
  let n = 0;
  const retries: number[] = [];
  const v = await withRetry(
    async () => {
      if (++n < 3) throw new TransferError('reset', { transient: true });
      return 'ok';
    },
    fast,
    (_e, tryNo) => retries.push(tryNo),
  );
  assert.equal(v, 'ok');
  assert.equal(n, 3);
  assert.deepEqual(retries, [1, 2]);
});

test('permanent errors are not retried, and retries stop at the limit', async () => {
  let n = 0;
  await assert.rejects(
    withRetry(async () => {
      n++;
      throw new TransferError('auth failed');
    }, fast),
    /auth failed/,
  );
  assert.equal(n, 1);
  n = 0;
  await assert.rejects(
    withRetry(async () => {
      n++;
      throw new TransferError('reset', { transient: true });
    }, fast),
    /reset/,
  );
  assert.equal(n, 4);
});
