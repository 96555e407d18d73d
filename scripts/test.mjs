#!/usr/bin/env node
// Runs every compiled *.test.js under dist/test with node's test runner, one file at a time
// (the integration tests share real database servers). Node 20's runner takes no globs.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.slice(2);

function find(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return find(p);
    return n.endsWith('.test.js') ? [p] : [];
  });
}

const files = find(join(root, 'dist', 'test'))
  .map((f) => relative(root, f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error('no test files found; run the build first');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=900000', ...files], { cwd: root, stdio: 'inherit' });
process.exitCode = r.status ?? 1;
