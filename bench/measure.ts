/**
 * Timing commands and checking what they wrote.
 *
 * Every timed command, ferry and the native tools alike, runs under GNU time (`time -f '%e %M'`),
 * so elapsed seconds and peak RSS come from the same kernel accounting for both sides and include
 * process start. Measuring ferry in-process instead would leave out its loading and flatter it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface Timed {
  /** Wall-clock seconds as GNU time reports them (%e, two decimals). */
  seconds: number;
  /** Peak resident set size of the command in KiB (%M). */
  peakRssKiB: number;
  code: number | null;
  /** Captured stdout (empty when it went to a file). */
  stdout: string;
  /** Captured stderr, trimmed to its last 16 KiB so a chatty failure cannot eat memory. */
  stderr: string;
  /** Epoch ms just before the spawn and at its end, to place the command's own log lines. */
  startedMs: number;
  endedMs: number;
}

export interface TimedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Send stdout to this file (the native tools write their CSV to stdout). */
  stdoutFile?: string;
  /** Kill the command after this many seconds, so a hung export cannot hang the whole bench. */
  timeoutSeconds?: number;
}

const STDERR_KEEP = 16 * 1024;

/** GNU time from PATH. Spawned directly (no shell), so the shell keyword `time` is not involved. */
export const GNU_TIME = 'time';

/** Fail early with a clear message when `time` on PATH is not GNU time (BSD time has no -f). */
export function checkGnuTime(): void {
  const r = spawnSync(GNU_TIME, ['--version'], { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error || !/GNU/i.test(text)) {
    throw new Error(`GNU time is needed on PATH as \`time\` (Debian package "time"); got: ${r.error?.message ?? text.trim()}`);
  }
}

export class Timer {
  private n = 0;
  /** Process group of the command running now, for killRunning(). */
  private running: number | undefined;

  /** `scratch` holds the small files GNU time writes its figures to. */
  constructor(private readonly scratch: string) {}

  async run(cmd: string, args: string[], opts: TimedOptions = {}): Promise<Timed> {
    const figures = join(this.scratch, `time-${++this.n}.txt`);
    const fd = opts.stdoutFile === undefined ? undefined : openSync(opts.stdoutFile, 'w');
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let code: number | null;
    const startedMs = Date.now();
    try {
      code = await new Promise<number | null>((resolve, reject) => {
        // -o keeps GNU time's line out of the command's stderr, which we show on failures.
        // detached: the command gets its own process group, so a timeout can end exactly the
        // processes this call started (time and its child) and nothing else.
        const child = spawn(GNU_TIME, ['-f', '%e %M', '-o', figures, cmd, ...args], {
          cwd: opts.cwd,
          env: opts.env ?? process.env,
          stdio: ['ignore', fd ?? 'pipe', 'pipe'],
          detached: true,
        });
        this.running = child.pid;
        child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr?.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
        });
        const timer =
          opts.timeoutSeconds === undefined
            ? undefined
            : setTimeout(() => {
                timedOut = true;
                if (child.pid !== undefined) {
                  try {
                    process.kill(-child.pid, 'SIGKILL');
                  } catch {
                    // Already gone.
                  }
                }
              }, opts.timeoutSeconds * 1000);
        child.on('error', reject);
        child.on('close', (c) => {
          this.running = undefined;
          if (timer) clearTimeout(timer);
          resolve(c);
        });
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const endedMs = Date.now();
    if (timedOut) throw new Error(`timed out after ${opts.timeoutSeconds} s: ${cmd} ${args.join(' ')}`);
    let text = '';
    try {
      text = readFileSync(figures, 'utf8');
      rmSync(figures, { force: true });
    } catch {
      // Reported below as missing figures.
    }
    // On failure GNU time writes "Command exited with non-zero status N" first; the figures are
    // always the last line.
    const last = text.trim().split('\n').pop() ?? '';
    const m = /^(\d+(?:\.\d+)?) (\d+)$/.exec(last.trim());
    if (!m) throw new Error(`no figures from GNU time for ${cmd} (exit ${code}): ${JSON.stringify(text)}; stderr: ${stderr.slice(-2000)}`);
    return { seconds: Number(m[1]), peakRssKiB: Number(m[2]), code, stdout, stderr: stderr.slice(-STDERR_KEEP), startedMs, endedMs };
  }

  /** End the command running now (and only it): used when the bench itself is interrupted. */
  killRunning(): void {
    if (this.running === undefined) return;
    try {
      process.kill(-this.running, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

export interface FileFacts {
  bytes: number;
  /** Number of '\n' bytes. The bench data has no line breaks inside fields, so lines = rows + header. */
  lines: number;
  sha256: string;
}

/** Count lines and hash a produced file, so a run that wrote too little cannot look fast. */
export async function fileFacts(path: string): Promise<FileFacts> {
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    hash.update(b);
    bytes += b.length;
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
  }
  return { bytes, lines, sha256: hash.digest('hex') };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
