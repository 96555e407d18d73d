/**
 * Every runtime dependency is used by the code that ships, and ARCHITECTURE.md names each one
 * beyond the decided stack: a package nobody imports is only attack surface and install time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/project.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return n.endsWith('.ts') ? [p] : [];
  });
}

test('every runtime dependency is imported by src/', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const text = sources(join(repoRoot, 'src'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const unused = Object.keys(pkg.dependencies).filter((name) => {
    const esc = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    return !new RegExp(`(from\\s+|import\\(\\s*)'${esc}(/[^']*)?'`).test(text);
  });
  assert.deepEqual(unused, [], `dependencies never imported: ${unused.join(', ')}`);
});
