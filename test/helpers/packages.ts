/**
 * Installs the Debian packages the transfer tests need (OpenSSH server, vsftpd) when they are
 * missing, so `npm test` works on a fresh machine. Services are never started by the install:
 * a policy-rc.d that answers 101 ("action forbidden") is put in place for the duration, so
 * nothing binds a public port; the tests start their own daemons on 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

const POLICY = '/usr/sbin/policy-rc.d';

export function ensureDebianPackages(packages: string[], binaries: string[]): void {
  if (binaries.every((b) => existsSync(b))) return;
  if (process.getuid?.() !== 0) throw new Error(`missing ${binaries.join(', ')}; install ${packages.join(' ')} (needs root)`);
  // One installer at a time across test processes.
  const script = [
    'set -e',
    `if ${binaries.map((b) => `[ -x ${b} ]`).join(' && ')}; then exit 0; fi`,
    'export DEBIAN_FRONTEND=noninteractive',
    'apt-get update -qq',
    `apt-get install -y -qq --no-install-recommends ${packages.join(' ')}`,
  ].join('\n');
  const ownPolicy = !existsSync(POLICY);
  if (ownPolicy) writeFileSync(POLICY, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const r = spawnSync('flock', ['/tmp/ferry-test-apt.lock', 'bash', '-c', script], { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`installing ${packages.join(' ')} failed: ${r.stderr || r.stdout || r.error?.message}`);
  } finally {
    if (ownPolicy) rmSync(POLICY, { force: true });
  }
  for (const b of binaries) if (!existsSync(b)) throw new Error(`${b} is still missing after installing ${packages.join(' ')}`);
}
