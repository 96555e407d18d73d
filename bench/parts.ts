/**
 * What the transfer and ingest parts of the bench share: the context run.ts hands them, the
 * interleaved repetition loop with its summary (median time, largest RSS), sha256 of big files,
 * and CPU profiles of one more (untimed) ferry run when a target is missed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { median, type Timer } from './measure.js';
import { readProfileDir, summarizeProfile } from './profile.js';
import { textTable } from './report.js';

export interface PartContext {
  timer: Timer;
  /** The bench's temp folder; each part works in a subfolder and removes it. */
  dir: string;
  repoRoot: string;
  repeat: number;
  /** Profile ferry cases that miss a time target (FERRY_BENCH_PROFILE=0 turns it off). */
  profile: boolean;
  out: (line?: string) => void;
  /**
   * Stoppers for what a part started (servers): run.ts runs them on exit and on Ctrl-C, so no
   * daemon outlives the bench even when a part crashes.
   */
  cleanups: Array<() => Promise<void>>;
}

/** One measured run: GNU time's figures and anything odd the checks noticed. */
export interface Sample {
  seconds: number;
  rssKiB: number;
  notes: string[];
}

export interface CaseDef {
  id: string;
  label: string;
  run: () => Promise<Sample>;
}

export interface CaseSummary {
  def: CaseDef;
  samples: Sample[];
  errors: string[];
  seconds?: number;
  min?: number;
  max?: number;
  rssKiB?: number;
}

/**
 * Run every case `repeat` times, interleaved (each case once, then again), so a busy spell of the
 * machine (other jobs on 2 cores) spreads over all cases instead of hitting one. A failing run is
 * recorded and the others go on.
 */
export async function runInterleaved(ctx: PartContext, cases: CaseDef[]): Promise<Map<string, CaseSummary>> {
  const res = new Map<string, CaseSummary>(cases.map((c) => [c.id, { def: c, samples: [], errors: [] }]));
  for (let rep = 1; rep <= ctx.repeat; rep++) {
    for (const c of cases) {
      const o = res.get(c.id)!;
      try {
        const s = await c.run();
        o.samples.push(s);
        ctx.out(`[${rep}/${ctx.repeat}] ${c.id.padEnd(28)} ${s.seconds.toFixed(2).padStart(6)} s ${(s.rssKiB / 1024).toFixed(0).padStart(5)} MiB${s.notes.length ? `  NOTE: ${s.notes.join('; ')}` : ''}`);
      } catch (e) {
        const msg = (e as Error).message;
        ctx.out(`[${rep}/${ctx.repeat}] ${c.id.padEnd(28)} FAILED: ${o.errors.length ? msg.split('\n')[0] : msg}`);
        o.errors.push(msg);
      }
    }
  }
  for (const o of res.values()) {
    const secs = o.samples.map((s) => s.seconds);
    if (secs.length) {
      o.seconds = median(secs);
      o.min = Math.min(...secs);
      o.max = Math.max(...secs);
      o.rssKiB = Math.max(...o.samples.map((s) => s.rssKiB));
    }
  }
  return res;
}

/** sha256 (hex) and size of a file, read in 4 MiB chunks. Independent of ferry's own hashing. */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Run a node script once more under `--cpu-prof` (not timed: the profiler slows it) and summarise
 * self time by area and by function. "(idle)" is the main thread waiting (network, disk, the
 * database); "(garbage collector)" is the cost of per-row or per-chunk objects.
 */
export function profileNode(
  ctx: PartContext,
  name: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; before?: () => void; after?: () => void } = {},
): string[] {
  const profDir = join(ctx.dir, `profile-${name}`);
  mkdirSync(profDir, { recursive: true });
  opts.before?.();
  const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 64 << 20,
  });
  opts.after?.();
  try {
    if (r.status !== 0) return [`profiled run failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`];
    const s = summarizeProfile(readProfileDir(profDir), 12);
    const text = [`sampled ${(s.totalMs / 1000).toFixed(1)} s of the main thread; self time by area:`];
    text.push(...textTable(['area', 'ms', '%'], s.areas.map((a) => [a.name, a.ms.toFixed(0), a.pct.toFixed(1)])).map((l) => `  ${l}`));
    text.push('top functions by self time:');
    text.push(...textTable(['function  where', 'ms', '%'], s.functions.map((f) => [f.name, f.ms.toFixed(0), f.pct.toFixed(1)])).map((l) => `  ${l}`));
    return text;
  } catch (e) {
    return [`cannot read the profile: ${(e as Error).message}`];
  } finally {
    rmSync(profDir, { recursive: true, force: true });
  }
}

export const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** "1.23×", or "—" when either side has no successful run. */
export function ratioText(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`;
}
