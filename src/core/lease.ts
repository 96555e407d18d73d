/**
 * Holding an instance's lease for the length of a run: acquire (taking over from a dead run of
 * this host at once), renew in the background, notice when it was lost, release at the end.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { ExitCode } from '../errors.js';
import type { InstanceRecord, JobKind } from '../state/types.js';
import type { Session } from './session.js';

export interface HeldLease {
  /** True once a renewal found another run holding the instance. */
  lost(): boolean;
  release(): Promise<void>;
}

export async function holdLease(session: Session, job: string, businessDate: string, kind: JobKind, log: Logger): Promise<HeldLease | undefined> {
  const state = await session.state();
  const ttlMs = session.project.config.leaseSeconds * 1000;
  const req = { job, businessDate, kind, owner: session.runId, ttlMs };
  let lease = await state.acquireLease(req);
  if (!lease) {
    // A run of this host that died (kill -9, power cut) need not block us until its lease expires.
    const holder = (await state.getInstance(job, businessDate))?.leaseOwner;
    if (holder && session.isDeadLocalRun(holder)) {
      log.warn({ holder }, 'taking over the lease of a run of this host that no longer exists');
      lease = await state.acquireLease({ ...req, takeOverFrom: holder });
    }
  }
  if (!lease) return undefined;
  let lost = false;
  const heartbeat = setInterval(() => {
    state
      .renewLease(job, businessDate, session.runId, ttlMs)
      .then((ok) => {
        if (!ok && !lost) {
          lost = true;
          log.error('lost the lease on this instance to another run');
        }
      })
      .catch((e) => log.warn({ err: describeError(e) }, 'lease renewal failed'));
  }, Math.max(1000, ttlMs / 3));
  heartbeat.unref();
  return {
    lost: () => lost,
    async release() {
      clearInterval(heartbeat);
      await state.releaseLease(job, businessDate, session.runId).catch(() => undefined);
    },
  };
}

/**
 * Why a run of this instance does nothing, or undefined when it should run: excluded by an
 * operator, already succeeded, or failed `maxAttempts` times (then only --force runs it).
 */
export function reasonNotToRun(
  existing: InstanceRecord | undefined,
  maxAttempts: number,
): { outcome: 'excluded' | 'already-done' | 'gave-up'; exitCode: 0 | 1; error?: string } | undefined {
  if (existing?.status === 'excluded') return { outcome: 'excluded', exitCode: ExitCode.ok };
  if (existing?.status === 'succeeded') return { outcome: 'already-done', exitCode: ExitCode.ok };
  if (existing?.status === 'failed' && existing.failures >= maxAttempts) {
    return {
      outcome: 'gave-up',
      exitCode: ExitCode.failed,
      error: `failed ${existing.failures} times (maxAttempts ${maxAttempts}); last error: ${existing.lastError ?? 'unknown'}; fix it and run with --force`,
    };
  }
  return undefined;
}
