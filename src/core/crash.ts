/**
 * Fault injection for the crash tests: when FERRY_CRASH_AT names this point, the process kills
 * itself with SIGKILL (no cleanup, no flush), exactly like a power cut or `kill -9` there.
 * Costs one string comparison otherwise.
 */
const target = process.env.FERRY_CRASH_AT;

export function crashPoint(name: string): void {
  if (target !== undefined && target === name) process.kill(process.pid, 'SIGKILL');
}
