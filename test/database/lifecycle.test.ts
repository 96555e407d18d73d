// Opening, failing and closing: clear errors without secrets, and no connection left behind when
// a consumer stops early or never reads (node must exit by itself after close()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/database/index.js';
import { ConfigError, DatabaseError } from '../../src/errors.js';
import { openMysql, openPg, unavailable } from './helpers.js';

const Z = { timezone: 'Asia/Seoul' };
// 100k-row generators; seq_0_to_N is MariaDB's SEQUENCE engine (MySQL has none).
const SERIES = {
  pg: 'SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 100000) g',
  mysql: `SELECT a.seq * 1000 + b.seq AS id, md5(a.seq) AS h FROM seq_0_to_99 a, seq_0_to_999 b`,
};

test('a missing SQLite file is a DatabaseError naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-missing-'));
  try {
    await assert.rejects(
      openDatabase({ name: 'lite', client: 'sqlite', connection: 'nope.sqlite', baseDir: dir }),
      (e: unknown) => e instanceof DatabaseError && /database "lite": SQLite file not found: nope\.sqlite/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown client is a ConfigError', async () => {
  await assert.rejects(
    openDatabase({ name: 'x', client: 'oracle' as never, connection: '', baseDir: '.' }),
    (e: unknown) => e instanceof ConfigError && /unknown database client "oracle"/.test(e.message),
  );
});

test('connection failures name the connection, not the password or URL', async () => {
  const db = await openDatabase({ name: 'wh', client: 'postgres', connection: 'postgres://bob:s3cret@127.0.0.1:1/db', baseDir: '.' });
  try {
    await assert.rejects(db.ping(), (e: unknown) => {
      assert.ok(e instanceof DatabaseError);
      assert.match(e.message, /^database "wh": cannot connect to PostgreSQL: /);
      assert.doesNotMatch(e.message, /s3cret|postgres:\/\//);
      return true;
    });
  } finally {
    await db.close();
  }
});

for (const [dialect, open] of [
  ['pg', openPg],
  ['mysql', openMysql],
] as const) {
  test(`${dialect}: stopping early, never reading, errors, and close()`, async (t) => {
    const skip = await unavailable(open);
    if (skip) return t.skip(skip);
    const db = await open();
    try {
      // Stop after the first row: the connection is released (or dropped) and the pool still works.
      for (let i = 0; i < 6; i++) {
        const rs = await db.query(SERIES[dialect], {}, Z);
        for await (const row of rs.rows) {
          assert.ok(row[0] !== null);
          break;
        }
      }
      // Errors are DatabaseErrors that name the connection.
      await assert.rejects(db.query('SELECT * FROM no_such_table_here', {}, Z), /^DatabaseError: database "(pgtest|mytest)": query failed: /);
      await assert.rejects(db.query('SELECT :nope', { date: 'x' }, Z), ConfigError);
      await assert.rejects(db.query('SELECT 1', {}, { timezone: 'Mars/Base' }), /unknown time zone "Mars\/Base"/);
      // Left unread: close() must still end it.
      await db.query(SERIES[dialect], {}, Z);
    } finally {
      await db.close();
    }
  });
}
