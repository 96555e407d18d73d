// The same table in SQLite, PostgreSQL and MariaDB must give the same Values through query(),
// and :date / :from / :to must filter the same rows with the session zone Asia/Seoul.
//
// Real differences, by design (see also src/database/mysql.ts):
// - MySQL/MariaDB TIMESTAMP comes back as WallTime in the session zone, not as Instant; the test
//   compares it with the Instant rendered as wall time in the zone.
// - DECIMAL(p,s) pads to the declared scale on MariaDB (0.10 → 0.100000000); PostgreSQL does the
//   same only for numeric(p,s), and SQLite keeps exact decimals only in a column with TEXT
//   affinity (declared `DECIMAL TEXT` here): NUMERIC affinity would store 0.1 as a REAL.
// - Integers come as number (int4, INT), bigint (SQLite) or Decimal (int8, BIGINT); the encoders
//   write the same digits for all three, so the normaliser tags them alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { openDatabase } from '../../src/database/index.js';
import type { SourceDatabase } from '../../src/database/index.js';
import { Decimal, Instant } from '../../src/values.js';
import { MYSQL_URL, PG_URL, openMysql, openPg, readAll, uniqueName, unavailable } from './helpers.js';

const ZONE = 'Asia/Seoul';
const TEXT = 'a,b "q"\nline2 한국어 🎉';
const COLS = 'id, txt, empty, nul, i, big, amt, f, b, d, ts, tstz, bin';
const SELECT = (table: string) => `SELECT ${COLS} FROM ${table} ORDER BY id`;

// 2024-03-10 23:59:59.5 in Seoul (UTC+9) is 14:59:59.5 UTC.
const TSTZ_EPOCH = Date.UTC(2024, 2, 10, 14, 59, 59) / 1000;
const TSTZ2_EPOCH = Date.UTC(2024, 2, 10, 15, 0, 0) / 1000;

const EXPECTED: string[][] = [
  [
    'num:1',
    `str:${TEXT}`,
    'str:',
    'null',
    'num:42',
    'num:9007199254740993',
    'num:-12345678901234567890.123456789',
    'num:3.25',
    'bool:true',
    'date:2024-03-10',
    'wall:2024-03-10T12:34:56.123456',
    `instant:${TSTZ_EPOCH}.5`,
    'bytes:00ff0a',
  ],
  [
    'num:2',
    'str:plain',
    'null',
    'null',
    'num:-7',
    'num:-1',
    'num:0.100000000',
    'num:0.1',
    'bool:false',
    'date:2024-03-11',
    'wall:2024-03-11T00:00:00',
    `instant:${TSTZ2_EPOCH}`,
    'bytes:',
  ],
  ['num:3', ...Array<string>(12).fill('null')],
];

/** MariaDB returns TIMESTAMP as wall time in the session zone (column 11). */
const EXPECTED_MYSQL = EXPECTED.map((r) => {
  const row = [...r];
  if (row[11] === `instant:${TSTZ_EPOCH}.5`) row[11] = 'wall:2024-03-10T23:59:59.5';
  if (row[11] === `instant:${TSTZ2_EPOCH}`) row[11] = 'wall:2024-03-11T00:00:00';
  return row;
});

const DAY = { date: '2024-03-10', from: '2024-03-10 00:00:00', to: '2024-03-11 00:00:00' };

/** The filters every database must answer alike: [sql where-clause, expected ids]. */
const FILTERS: [string, string[]][] = [
  ['d = :date', ['num:1']],
  ['ts >= :from AND ts < :to', ['num:1']],
];

async function checkFilters(db: SourceDatabase, table: string, extra: [string, string[]][] = []): Promise<void> {
  for (const [where, ids] of [...FILTERS, ...extra]) {
    const rows = await readAll(db, `SELECT id FROM ${table} WHERE ${where} ORDER BY id`, DAY, ZONE);
    assert.deepEqual(
      rows.map((r) => r[0]),
      ids,
      where,
    );
  }
}

describe('SQLite', () => {
  let dir: string;
  let db: SourceDatabase;
  const table = 't_values';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-db-'));
    const raw = new Database(join(dir, 'src.sqlite'));
    raw.exec(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, txt TEXT, empty TEXT, nul TEXT, i INTEGER, big BIGINT,
      amt DECIMAL TEXT, f REAL, b BOOLEAN, d DATE, ts DATETIME, tstz TIMESTAMP, bin BLOB)`);
    const ins = raw.prepare(`INSERT INTO ${table} VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`);
    ins.run(1, TEXT, '', null, 42, 9007199254740993n, '-12345678901234567890.123456789', 3.25, 1, '2024-03-10',
      '2024-03-10 12:34:56.123456', '2024-03-10T23:59:59.5+09:00', Buffer.from([0, 255, 10]));
    ins.run(2, 'plain', null, null, -7, -1, '0.100000000', 0.1, 0, '2024-03-11', '2024-03-11 00:00:00', '2024-03-10T15:00:00Z', Buffer.alloc(0));
    ins.run(3, ...Array(12).fill(null));
    raw.close();
    db = await openDatabase({ name: 'lite', client: 'sqlite', connection: 'src.sqlite', baseDir: dir });
  });
  after(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('query() gives the canonical values', async () => {
    assert.deepEqual(await readAll(db, SELECT(table), {}, ZONE), EXPECTED);
    const rs = await db.query(SELECT(table), {}, { timezone: ZONE });
    assert.deepEqual(
      rs.columns.map((c) => c.type),
      ['int', 'string', 'string', 'string', 'int', 'int', 'decimal', 'float', 'bool', 'date', 'timestamp', 'timestamp', 'bytes'],
    );
    const it = rs.rows[Symbol.asyncIterator]();
    const first = (await it.next()).value!;
    // Stopping early must give the connection back (the SQLite pool has only one).
    await it.return?.();
    assert.equal(first[5], 9007199254740993n, 'INTEGER stays bigint');
    assert.ok(first[11] instanceof Instant, 'text with an offset is an Instant');
  });

  test(':date, :from, :to filter', async () => {
    await checkFilters(db, table);
  });

  test('describe() and ping()', async () => {
    const cols = await db.describe(`SELECT id, amt, 1 + 1 AS two FROM ${table} WHERE d = :date`, DAY, { timezone: ZONE });
    assert.deepEqual(cols, [
      { name: 'id', type: 'int' },
      { name: 'amt', type: 'decimal' },
      { name: 'two', type: 'unknown' },
    ]);
    assert.match(await db.ping(), /^SQLite 3\.\d+/);
  });
});

describe('PostgreSQL', async () => {
  const skip = await unavailable(openPg);
  const table = uniqueName('ferry_t');
  let client: pg.Client;
  let db: SourceDatabase;
  before(async () => {
    if (skip) return;
    client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, txt text, empty text, nul text, i int, big bigint,
      amt numeric(38,9), f double precision, b boolean, d date, ts timestamp(6), tstz timestamptz, bin bytea)`);
    await client.query(
      `INSERT INTO ${table} VALUES
      (1, $1, '', NULL, 42, 9007199254740993, -12345678901234567890.123456789, 3.25, true, '2024-03-10',
       '2024-03-10 12:34:56.123456', '2024-03-10 23:59:59.5+09', '\\x00ff0a'),
      (2, 'plain', NULL, NULL, -7, -1, 0.10, 0.1, false, '2024-03-11', '2024-03-11 00:00:00', '2024-03-11 00:00:00+09', ''),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
      [TEXT],
    );
    db = await openPg();
  });
  after(async () => {
    await db?.close();
    await client?.query(`DROP TABLE IF EXISTS ${table}`);
    await client?.end();
  });

  test('query() gives the canonical values', { skip }, async () => {
    assert.deepEqual(await readAll(db, SELECT(table), {}, ZONE), EXPECTED);
    const rs = await db.query(SELECT(table), {}, { timezone: ZONE });
    assert.deepEqual(
      rs.columns.map((c) => c.type),
      ['int', 'string', 'string', 'string', 'int', 'int', 'decimal', 'float', 'bool', 'date', 'timestamp', 'timestamptz', 'bytes'],
    );
    for await (const row of rs.rows) {
      assert.ok(row[5] === null || row[5] instanceof Decimal, 'int8 is a Decimal');
      assert.ok(row[12] === null || Object.getPrototypeOf(row[12]) === Uint8Array.prototype, 'bytea is a plain Uint8Array');
    }
  });

  test(':date, :from, :to filter (timestamptz in the session zone)', { skip }, async () => {
    await checkFilters(db, table, [['tstz >= :from AND tstz < :to', ['num:1']]]);
  });

  test('the session zone decides which instants belong to the day', { skip }, async () => {
    // In UTC both instants are on 2024-03-10.
    const rows = await readAll(db, `SELECT id FROM ${table} WHERE tstz >= :from AND tstz < :to ORDER BY id`, DAY, 'UTC');
    assert.deepEqual(rows, [['num:1'], ['num:2']]);
  });

  test('describe() and ping()', { skip }, async () => {
    const cols = await db.describe(`SELECT id, amt, tstz, '{}'::jsonb AS j FROM ${table} WHERE d = :date`, DAY, { timezone: ZONE });
    assert.deepEqual(cols, [
      { name: 'id', type: 'int' },
      { name: 'amt', type: 'decimal' },
      { name: 'tstz', type: 'timestamptz' },
      { name: 'j', type: 'json' },
    ]);
    assert.match(await db.ping(), /^PostgreSQL \d+\.\d+/);
  });

  test('describe() takes the statement as written: a trailing semicolon works, errors point at its own text', { skip }, async () => {
    const cols = await db.describe(`SELECT id, txt FROM ${table} WHERE d = :date;`, DAY, { timezone: ZONE });
    assert.deepEqual(cols, [
      { name: 'id', type: 'int' },
      { name: 'txt', type: 'string' },
    ]);
    await assert.rejects(db.describe(`SELECT id FROM ${table} WHERE d = :date ORDER`, DAY, { timezone: ZONE }), (e: Error) => {
      assert.match(e.message, /syntax error at end of input/);
      // A wrapped statement would add a closing parenthesis and report "near )".
      assert.doesNotMatch(e.message, /\)/);
      return true;
    });
    await assert.rejects(db.describe(`SELECT nope FROM ${table}`, {}, { timezone: ZONE }), /column "nope" does not exist/);
    // Nothing ran: describing a statement that writes leaves the table as it was.
    await db.describe(`DELETE FROM ${table} RETURNING id`, {}, { timezone: ZONE });
    assert.equal((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 3);
  });
});

describe('MariaDB', async () => {
  const skip = await unavailable(openMysql);
  const table = uniqueName('ferry_t');
  let conn: mysql.Connection;
  let db: SourceDatabase;
  before(async () => {
    if (skip) return;
    conn = await mysql.createConnection({ uri: MYSQL_URL, charset: 'utf8mb4' });
    await conn.query(`SET time_zone = '+09:00'`);
    await conn.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, txt TEXT, empty TEXT, nul TEXT, i INT, big BIGINT,
      amt DECIMAL(38,9), f DOUBLE, b BOOLEAN, d DATE, ts DATETIME(6), tstz TIMESTAMP(6) NULL DEFAULT NULL, bin VARBINARY(16))
      CHARACTER SET utf8mb4`);
    await conn.query(
      `INSERT INTO ${table} VALUES
      (1, ?, '', NULL, 42, 9007199254740993, -12345678901234567890.123456789, 3.25, true, '2024-03-10',
       '2024-03-10 12:34:56.123456', '2024-03-10 23:59:59.5', X'00ff0a'),
      (2, 'plain', NULL, NULL, -7, -1, 0.10, 0.1, false, '2024-03-11', '2024-03-11 00:00:00', '2024-03-11 00:00:00', ''),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
      [TEXT],
    );
    db = await openMysql();
  });
  after(async () => {
    await db?.close();
    await conn?.query(`DROP TABLE IF EXISTS ${table}`);
    await conn?.end();
  });

  test('query() gives the canonical values (TIMESTAMP as wall time)', { skip }, async () => {
    assert.deepEqual(await readAll(db, SELECT(table), {}, ZONE), EXPECTED_MYSQL);
    const rs = await db.query(SELECT(table), {}, { timezone: ZONE });
    assert.deepEqual(
      rs.columns.map((c) => c.type),
      ['int', 'string', 'string', 'string', 'int', 'int', 'decimal', 'float', 'bool', 'date', 'timestamp', 'timestamp', 'bytes'],
    );
    for await (const row of rs.rows) assert.ok(row[5] === null || row[5] instanceof Decimal, 'BIGINT is a Decimal');
  });

  test(':date, :from, :to filter (TIMESTAMP in the session zone)', { skip }, async () => {
    await checkFilters(db, table, [['tstz >= :from AND tstz < :to', ['num:1']]]);
  });

  test('describe() and ping()', { skip }, async () => {
    const cols = await db.describe(`SELECT id, amt, b, tstz FROM ${table} WHERE d = :date`, DAY, { timezone: ZONE });
    assert.deepEqual(cols, [
      { name: 'id', type: 'int' },
      { name: 'amt', type: 'decimal' },
      { name: 'b', type: 'bool' },
      { name: 'tstz', type: 'timestamp' },
    ]);
    assert.match(await db.ping(), /^(MariaDB|MySQL) \d+\.\d+\.\d+$/);
  });
});
