/** Temporary user projects for tests: a folder with ferry.config.ts, jobs/ and data. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const ferryBin = join(repoRoot, 'bin', 'ferry');

export interface TempProject {
  dir: string;
  write(path: string, text: string): void;
  path(p: string): string;
  remove(): void;
}

export function tempProject(files: Record<string, string> = {}): TempProject {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-proj-'));
  const p: TempProject = {
    dir,
    write(path, text) {
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
    },
    path: (x) => join(dir, x),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  for (const [k, v] of Object.entries(files)) p.write(k, v);
  return p;
}

/** Create a SQLite database file from SQL text. */
export function sqliteFromSql(file: string, sql: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec(sql);
  db.close();
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run bin/ferry in `cwd` and collect its output. */
export function runFerry(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ferryBin, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The sample shop schema used by end-to-end tests (SQLite). */
export const SHOP_SQL = `
create table orders (id integer primary key, customer text, amount text, paid boolean, created_at datetime);
insert into orders values
  (1, '홍길동', '15000.00', 1, '2026-11-20 00:00:00'),
  (2, 'Kim, "Jay"', '2500.50', 0, '2026-11-20 23:59:59'),
  (3, NULL, '-0.01', 1, '2026-11-21 00:00:00'),
  (4, '', '7', 1, '2026-11-19 23:59:59');
`;

export const CONFIG_TS = `
import { defineConfig } from 'ferry';
export default defineConfig({
  timezone: 'Asia/Seoul',
  connections: {
    shop: { type: 'database', client: 'sqlite', connection: 'shop.sqlite' },
    partner: { type: 'local', root: 'partner' },
  },
  retry: { tries: 2, baseDelayMs: 10, maxDelayMs: 20 },
});
`;

export const ORDERS_JOB_TS = `
import { defineExport } from 'ferry';
export default defineExport({
  source: { connection: 'shop', sql: 'select id, customer, amount, paid, created_at from orders where created_at >= :from and created_at < :to order by id' },
  format: { type: 'csv', columns: ['id', 'customer', { name: 'amount', type: 'decimal' }, 'paid', 'created_at'] },
  file: { name: 'orders_{date:yyyyMMdd}.csv', checksum: 'sha256', doneFile: '{file}.done' },
  deliver: [{ connection: 'partner', dir: 'in', mkdir: true }],
});
`;
