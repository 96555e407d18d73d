#!/usr/bin/env node
// The README's first command: seed the sample SQLite database from fixtures/shop.sql, run every
// sample job for business date 2026-11-20, and show what was produced and delivered.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const root = fileURLToPath(new URL('..', import.meta.url));
const varDir = join(root, 'var');
const ferry = join(root, 'bin', 'ferry');

// Start from a clean slate each time so the demo always shows a full run.
rmSync(varDir, { recursive: true, force: true });
mkdirSync(varDir, { recursive: true });
const db = new Database(join(varDir, 'shop.sqlite'));
db.exec(readFileSync(join(root, 'fixtures', 'shop.sql'), 'utf8'));
db.close();
// The bank's file waits in its outbound folder for the import job.
mkdirSync(join(varDir, 'bank', 'outbound'), { recursive: true });
copyFileSync(join(root, 'fixtures', 'bank', 'settle_20261120.csv'), join(varDir, 'bank', 'outbound', 'settle_20261120.csv'));
console.log('seeded var/shop.sqlite from fixtures/shop.sql, and var/bank/outbound/settle_20261120.csv\n');

function ferryRun(args) {
  console.log(`$ ferry ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [ferry, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, FERRY_LOG_FORMAT: 'pretty' } });
  console.log('');
  return r.status ?? 1;
}

let status = ferryRun(['--log-format', 'pretty', 'run', 'orders-daily', 'customers-kv', 'payments-jsonl', 'settlements-in', '--date', '2026-11-20']);
// A second run of the same date does nothing: each instance is sent once.
ferryRun(['--quiet', 'run', 'orders-daily', '--date', '2026-11-20']);
ferryRun(['status', '--days', '3']);

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
const partner = join(varDir, 'partner');
if (existsSync(partner)) {
  console.log('delivered to the partner folder (var/partner):');
  for (const f of walk(partner)) console.log(`  ${relative(varDir, f)}  (${statSync(f).size} bytes)`);
  const orders = join(partner, 'inbound', 'orders', 'orders_20261120.csv');
  if (existsSync(orders)) {
    console.log('\nvar/partner/inbound/orders/orders_20261120.csv:');
    process.stdout.write(readFileSync(orders, 'utf8').replace(/\r\n/g, '\u21b5\n'));
  }
} else status ||= 1;

const shop = new Database(join(varDir, 'shop.sqlite'), { readonly: true });
console.log('\nrows the import job loaded into var/shop.sqlite (settlements):');
for (const r of shop.prepare('select settlement_id, merchant, amount, settled_at from settlements order by settlement_id').all()) {
  console.log(`  ${r.settlement_id}  ${r.merchant}  ${r.amount}  ${r.settled_at}`);
}
shop.close();
process.exitCode = status;
