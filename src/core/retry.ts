/** Retries with exponential backoff and full jitter, for transient failures only. */
import { TransferError } from '../errors.js';

export interface RetryPolicy {
  tries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function isTransient(e: unknown): boolean {
  return e instanceof TransferError && e.transient;
}

/** Delay before try `n+1` (n ≥ 1): uniform in [0, min(max, base·2^(n-1))] ("full jitter"). */
export function backoffDelay(n: number, p: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (n - 1));
  return Math.floor(random() * ceiling);
}

export async function withRetry<T>(
  fn: (tryNo: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (e: unknown, tryNo: number, delayMs: number) => void,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await fn(n);
    } catch (e) {
      if (n >= policy.tries || !isTransient(e)) throw e;
      const delay = backoffDelay(n, policy);
      onRetry?.(e, n, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
