/**
 * A short summary of a V8 CPU profile (`node --cpu-prof`): self time per function and per area
 * (package, ferry folder, Node core, GC, idle). Printed with the results so "where does the
 * time go" is answered by the same run that produced the numbers, without opening DevTools.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: Share[];
  areas: Share[];
}

/** Where a script lives, shortened: `pg/lib/result.js`, `ferry src/formats/encode.js`, `node:…`. */
function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return `ferry ${url.slice(dist + '/dist/'.length)}`;
  return url.replace(/^file:\/\//, '');
}

/** The bucket a frame's self time is added to. */
function areaOf(f: CallFrame): string {
  const url = f.url;
  if (!url) return f.functionName.startsWith('(') ? f.functionName : '(native code: V8 builtins, C++ bindings)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const dist = url.lastIndexOf('/dist/src/');
  if (dist >= 0) {
    const rest = url.slice(dist + '/dist/src/'.length).split('/');
    return `ferry src/${rest.length > 1 ? rest[0] + '/' : rest[0]}`;
  }
  // Module loading is start-up cost; keep it apart from the streams and I/O of the export itself.
  if (url.startsWith('node:internal/modules/') || url.startsWith('node:internal/deps/cjs-module-lexer')) return 'Node module loading';
  if (url.startsWith('node:')) return 'Node core (streams, fs, net…)';
  return shortUrl(url);
}

function top(map: Map<string, number>, total: number, n: number): Share[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: total ? (100 * us) / total : 0 }));
}

export function summarizeProfile(p: CpuProfile, n = 12): ProfileSummary {
  const byId = new Map(p.nodes.map((node) => [node.id, node.callFrame]));
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  let total = 0;
  // timeDeltas[i] is the gap before sample i; the time up to the next sample belongs to sample i
  // (the way DevTools attributes it).
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i + 1] ?? 0;
    const f = byId.get(p.samples[i]!);
    if (!f) continue;
    total += us;
    const name = f.url ? `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}:${f.lineNumber + 1}` : f.functionName || '(anonymous)';
    fn.set(name, (fn.get(name) ?? 0) + us);
    const a = areaOf(f);
    area.set(a, (area.get(a) ?? 0) + us);
  }
  return { totalMs: total / 1000, functions: top(fn, total, n), areas: top(area, total, n) };
}

/** Read the one profile node wrote into `dir` (`--cpu-prof-dir`). */
export function readProfileDir(dir: string): CpuProfile {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
}
