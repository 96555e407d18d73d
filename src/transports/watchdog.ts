/**
 * Idle watchdog for network operations. Neither ssh2 nor basic-ftp has a per-request timeout,
 * and TCP keepalives do not help when a middlebox keeps the connection open but forwards
 * nothing: the request then waits forever. The watchdog measures time since the last sign of
 * progress (bytes moved, a reply arrived) and, when that exceeds the limit, calls `onIdle`
 * (which must destroy the connection so that pending callbacks and local file handles get
 * released) and rejects at once, without waiting for the operation to notice.
 */

/** Handed to the watched operation. */
export interface Watchdog {
  /** Record progress; call it whenever bytes moved or a reply arrived. Cheap: a timestamp. */
  touch(): void;
}

/** Thrown by `withIdleWatchdog` when the operation made no progress for `idleMs`. */
export class IdleTimeoutError extends Error {
  constructor(readonly idleMs: number) {
    super(`no progress for ${formatSeconds(idleMs)}`);
    this.name = 'IdleTimeoutError';
  }
}

/** "60 s", "2 s", "0.5 s": how timeouts are spelled in messages. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1))} s`;
}

/**
 * Run `op`, rejecting with IdleTimeoutError once it has made no progress for `idleMs`
 * (0 or less disables the watchdog). After a timeout the operation's own late result or error
 * is swallowed, so it cannot surface as an unhandled rejection.
 */
export async function withIdleWatchdog<T>(idleMs: number, onIdle: () => void, op: (w: Watchdog) => Promise<T>): Promise<T> {
  if (!(idleMs > 0)) return op({ touch() {} });
  let last = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const watchdog: Watchdog = {
    touch() {
      last = Date.now();
    },
  };
  const idle = new Promise<never>((_resolve, reject) => {
    // Re-arming one timer for the remaining time is far cheaper than resetting a timer on
    // every chunk of a transfer (tens of thousands per second).
    const check = () => {
      const quiet = Date.now() - last;
      if (quiet >= idleMs) {
        timer = undefined;
        try {
          onIdle();
        } finally {
          reject(new IdleTimeoutError(idleMs));
        }
      } else {
        timer = setTimeout(check, idleMs - quiet);
      }
    };
    timer = setTimeout(check, idleMs);
  });
  const work = op(watchdog);
  try {
    return await Promise.race([work, idle]);
  } catch (e) {
    work.catch(() => undefined);
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    idle.catch(() => undefined);
  }
}
