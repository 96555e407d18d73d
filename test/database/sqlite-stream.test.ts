// SQLite rows must stream with flat memory. knex's `.stream()` on SQLite reads the whole result
// with `statement.all()` first (about +90 MB for 300k rows), which this test would catch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/database/index.js';
import type { SourceDatabase } from '../../src/database/index.js';

const ROWS = 300_000;

// A full GC before each sample measures what is retained, not garbage awaiting collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let dir: string;
let db: SourceDatabase;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-stream-'));
  const raw = new Database(join(dir, 'big.sqlite'));
  raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, amount DECIMAL, d DATE, ts DATETIME, flag BOOLEAN)');
  const ins = raw.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)');
  raw.transaction(() => {
    for (let i = 1; i <= ROWS; i++) {
      ins.run(i, `customer number ${i} with a longer name`, i * 100 + 0.25, '2024-03-10', '2024-03-10 12:00:00', i % 2);
    }
  })();
  raw.close();
  db = await openDatabase({ name: 'big', client: 'better-sqlite3', connection: { filename: 'big.sqlite' }, baseDir: dir });
});

after(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

test(`${ROWS} rows stream with flat memory`, async () => {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let count = 0;
  const t0 = performance.now();
  const rs = await db.query('SELECT * FROM t ORDER BY id', {}, { timezone: 'Asia/Seoul' });
  for await (const row of rs.rows) {
    count++;
    if (count % 50_000 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      assert.equal(row[0], BigInt(count));
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(count, ROWS);
  assert.ok(peak < 30 * 1024 * 1024, `heap grew by ${(peak / 1048576).toFixed(1)} MB while streaming`);
  // The connection is free again: another query on the single-connection pool works.
  const again = await db.query('SELECT count(*) AS n FROM t', {}, { timezone: 'UTC' });
  for await (const row of again.rows) assert.equal(row[0], BigInt(ROWS));
  console.log(`# sqlite: ${count} rows in ${seconds.toFixed(2)} s, peak retained heap +${(peak / 1048576).toFixed(1)} MB`);
});
