/**
 * Leftovers in an instance's inbox folder, `var/inbox/<job>/<business date>/`.
 *
 * Everything in that folder belongs to a run of that one instance: downloads in progress (temp
 * names), local copies being received, sidecar temp files. A copy leaves it when its file is
 * archived or rejected, and when its receive fails (the partner still has the file; the next run
 * downloads it again). What is still there when a run starts was left by a run that was killed
 * (kill -9, power loss) — the caller holds the instance's lease, so no other run of this
 * instance is alive, and runs of other dates (which the lease does not serialise) have folders
 * of their own. So the whole folder can be emptied, and nothing is fetched twice into it.
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';

/**
 * Remove everything a killed or failed earlier run of this instance left in its inbox folder.
 * Only call while holding the instance's lease.
 */
export async function sweepInstanceInbox(dir: string, log: Logger): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const name of names) await rm(join(dir, name), { recursive: true, force: true });
  if (names.length > 0) log.info({ removed: names.length }, 'removed files an interrupted run left in the inbox');
}

/** Remove the instance's inbox folder when the run left it empty (best effort). */
export async function dropEmptyInbox(dir: string): Promise<void> {
  await rmdir(dir).catch(() => undefined);
}
