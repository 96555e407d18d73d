// Ingest side of the database adapters, the same suite on SQLite (temp file), PostgreSQL and
// MariaDB: exact values, insert / upsert / replace, atomicity, the marker and concurrent runs of
// the same file, and a 200,000-row load (its rows/s are printed as test diagnostics).
//
// Differences by design: MariaDB TIMESTAMP and SQLite text hold Instants as wall time of the
// config zone and read back as WallTime; SQLite enforces neither lengths nor types.

// The three databases behind one small interface: raw DDL through a separate admin connection,
// everything else through ferry's adapter (ingest to write, query() to read back).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { openDatabase } from '../../src/database/index.js';
import type { Dialect, SourceDatabase } from '../../src/database/index.js';
import type { IngestMarker } from '../../src/database/types.js';
import { WallClock } from '../../src/database/ingest.js';
import type { Knex } from 'knex';
import { ConfigError, DatabaseError, DuplicateIngestError, RejectedRowError } from '../../src/errors.js';
import { Decimal, Instant, LocalDate, WallTime } from '../../src/values.js';
import type { Value } from '../../src/values.js';
import { MYSQL_URL, PG_URL, openMysql, openPg, readAll, tag, unavailable, uniqueName } from './helpers.js';

/** Column types per dialect for the tables the tests create. */
interface Types {
  int: string;
  bigint: string;
  text: string;
  /** A short string usable in a primary key. */
  key: string;
  varchar5: string;
  decimal: string;
  bool: string;
  date: string;
  wall: string;
  instant: string;
  bytes: string;
}

interface Harness {
  label: string;
  dialect: Dialect;
  /** Why the suite is skipped (FERRY_TEST_*_URL=skip), or undefined. */
  skip: string | undefined;
  types: Types;
  /** Prepare the admin connection (and the SQLite file). */
  setup(): Promise<void>;
  /** Open a new ferry database (each call a separate pool and connection). */
  open(): Promise<SourceDatabase>;
  /** Run DDL / statements outside ferry. */
  exec(sql: string): Promise<void>;
  /** A new table name; `qualified` gives it with its schema (PG schema, MySQL database, SQLite `main`). */
  table(prefix: string): string;
  qualified(table: string): string;
  /** Drop what the tests created (tables, schema, marker rows of `jobPrefix`). */
  teardown(tables: string[], jobPrefix: string): Promise<void>;
}

function sqliteHarness(): Harness {
  let dir = '';
  let admin: Database.Database | undefined;
  return {
    label: 'SQLite',
    dialect: 'sqlite',
    skip: undefined,
    types: {
      int: 'INTEGER',
      bigint: 'BIGINT',
      text: 'TEXT',
      key: 'TEXT',
      varchar5: 'VARCHAR(5)',
      // TEXT affinity keeps decimals exact (see src/database/sqlite.ts).
      decimal: 'DECIMAL TEXT',
      bool: 'BOOLEAN',
      date: 'DATE',
      wall: 'DATETIME',
      instant: 'TIMESTAMP',
      bytes: 'BLOB',
    },
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'ferry-ingest-'));
      admin = new Database(join(dir, 'target.sqlite'));
    },
    open: () => openDatabase({ name: 'lite', client: 'sqlite', connection: 'target.sqlite', baseDir: dir }),
    async exec(sql) {
      admin!.exec(sql);
    },
    table: (prefix) => uniqueName(prefix),
    qualified: (t) => `main.${t}`,
    async teardown() {
      admin?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function pgHarness(): Promise<Harness> {
  const skip = await unavailable(openPg);
  const schema = uniqueName('ferry_ingest_s');
  let client: pg.Client | undefined;
  return {
    label: 'PostgreSQL',
    dialect: 'pg',
    skip,
    types: {
      int: 'int',
      bigint: 'bigint',
      text: 'text',
      key: 'varchar(20)',
      varchar5: 'varchar(5)',
      decimal: 'numeric(38,9)',
      bool: 'boolean',
      date: 'date',
      wall: 'timestamp(6)',
      instant: 'timestamptz',
      bytes: 'bytea',
    },
    async setup() {
      client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`CREATE SCHEMA ${schema}`);
    },
    open: openPg,
    async exec(sql) {
      await client!.query(sql);
    },
    table: (prefix) => uniqueName(prefix),
    qualified: (t) => `${schema}.${t}`,
    async teardown(tables, jobPrefix) {
      if (!client) return;
      for (const t of tables) await client.query(`DROP TABLE IF EXISTS ${t}`);
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.query(`DELETE FROM ferry_ingested_files WHERE job LIKE $1`, [`${jobPrefix}%`]).catch(() => undefined);
      await client.end();
    },
  };
}

async function mysqlHarness(): Promise<Harness> {
  const skip = await unavailable(openMysql);
  let conn: mysql.Connection | undefined;
  const database = new URL(MYSQL_URL).pathname.slice(1) || 'test';
  return {
    label: 'MariaDB',
    dialect: 'mysql',
    skip,
    types: {
      int: 'INT',
      bigint: 'BIGINT',
      text: 'TEXT',
      key: 'VARCHAR(20)',
      varchar5: 'VARCHAR(5)',
      decimal: 'DECIMAL(38,9)',
      bool: 'BOOLEAN',
      date: 'DATE',
      wall: 'DATETIME(6)',
      instant: 'TIMESTAMP(6) NULL DEFAULT NULL',
      bytes: 'VARBINARY(64)',
    },
    async setup() {
      conn = await mysql.createConnection({ uri: MYSQL_URL, charset: 'utf8mb4' });
    },
    open: openMysql,
    async exec(sql) {
      // Tables in utf8mb4 so emoji fit; InnoDB for transactions.
      await conn!.query(/^CREATE TABLE/i.test(sql) ? `${sql} ENGINE=InnoDB DEFAULT CHARSET=utf8mb4` : sql);
    },
    table: (prefix) => uniqueName(prefix),
    qualified: (t) => `${database}.${t}`,
    async teardown(tables, jobPrefix) {
      if (!conn) return;
      for (const t of tables) await conn.query(`DROP TABLE IF EXISTS ${t}`);
      await conn.query(`DELETE FROM ferry_ingested_files WHERE job LIKE ?`, [`${jobPrefix}%`]).catch(() => undefined);
      await conn.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The suite

const ZONE = 'Asia/Seoul';
const JOB = uniqueName('ingest_job');
const TEXT = 'a,b "q"\nline2 한국어 🎉 \'single\'';
const BACKSLASH = "it's \\ back\\slash \\n and \\' end\\";
// 2024-03-10 23:59:59.5 in Seoul is 14:59:59.5 UTC.
const TSTZ_EPOCH = Date.UTC(2024, 2, 10, 14, 59, 59) / 1000;
const TSTZ2_EPOCH = Date.UTC(2024, 2, 10, 15, 0, 0) / 1000;

let shaCounter = 0;
/** A fresh file identity. */
function marker(name = 'file.csv', businessDate = '2024-03-10'): IngestMarker {
  const sha256 = createHash('sha256').update(`${JOB}:${process.pid}:${++shaCounter}:${Math.random()}`).digest('hex');
  return { job: JOB, sha256, fileName: name, businessDate };
}

async function* from<T>(rows: Iterable<T>): AsyncGenerator<T> {
  for (const r of rows) yield r;
}

/** `count` rows made by `make(i)` (i from 0), produced lazily. */
async function* generate(count: number, make: (i: number) => Value[]): AsyncGenerator<Value[]> {
  for (let i = 0; i < count; i++) yield make(i);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function suite(label: string, makeHarness: () => Harness | Promise<Harness>): void {
  // describe() callbacks may be async: the harness (and its skip reason) is known before the tests.
  void describe(`ingest on ${label}`, async () => {
    const h = await makeHarness();
    const skip = h.skip;
    const t = h.types;
    const tables: string[] = [];
    let db: SourceDatabase;
    const newTable = async (prefix: string, columns: string, qualified = false): Promise<string> => {
      const name = qualified ? h.qualified(h.table(prefix)) : h.table(prefix);
      await h.exec(`CREATE TABLE ${name} (${columns})`);
      tables.push(name);
      return name;
    };
    const read = (sql: string): Promise<string[][]> => readAll(db, sql, {}, ZONE);
    const count = async (table: string): Promise<number> => Number((await read(`SELECT count(*) AS n FROM ${table}`))[0]![0]!.slice(4));

    before(async () => {
      if (skip) return;
      await h.setup();
      db = await h.open();
    });
    after(async () => {
      await db?.close();
      if (!skip) await h.teardown(tables, JOB);
    });

    test(`${h.label}: insert keeps every value exactly`, { skip }, async () => {
      if (h.dialect === 'sqlite') {
        // A fresh database has no marker table yet.
        assert.equal(await db.ingestedFile(JOB, 'f'.repeat(64)), undefined);
      }
      const table = await newTable(
        'ferry_in_values',
        `id ${t.int} PRIMARY KEY, txt ${t.text}, empty ${t.text}, amt ${t.decimal}, amt_t ${t.text}, big ${t.bigint}, ` +
          `b ${t.bool}, d ${t.date}, ts ${t.wall}, tstz ${t.instant}, bin ${t.bytes}`,
      );
      const columns = ['id', 'txt', 'empty', 'amt', 'amt_t', 'big', 'b', 'd', 'ts', 'tstz', 'bin'];
      const rows: Value[][] = [
        [
          1,
          TEXT,
          '',
          new Decimal('-12345678901234567890.123456789'),
          new Decimal('-0.000000000000000000001'),
          9007199254740993n,
          true,
          new LocalDate('2024-03-10'),
          new WallTime('2024-03-10T12:34:56.123456'),
          new Instant(TSTZ_EPOCH, '5'),
          new Uint8Array([0, 255, 10]),
        ],
        [
          2,
          BACKSLASH,
          null,
          new Decimal('99999999999999999999999999999.999999999'),
          new Decimal('123456789012345678901234567890.5'),
          -9223372036854775808n,
          false,
          new LocalDate('2024-02-29'),
          new WallTime('2024-03-11T00:00:00'),
          new Instant(TSTZ2_EPOCH, '000001'),
          new Uint8Array(0),
        ],
        [3, ...Array<Value>(10).fill(null)],
      ];
      const m = marker('values.csv');
      const n = await db.ingest(m, (tx) => tx.load({ table, columns, mode: 'insert' }, from(rows)), { timezone: ZONE });
      assert.equal(n, 3);
      // MariaDB TIMESTAMP and SQLite text come back as wall time in the zone (see crossdb.test.ts).
      const instantAsWall = h.dialect !== 'pg';
      assert.deepEqual(await read(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY id`), [
        [
          'num:1',
          `str:${TEXT}`,
          'str:',
          'num:-12345678901234567890.123456789',
          'str:-0.000000000000000000001',
          'num:9007199254740993',
          'bool:true',
          'date:2024-03-10',
          'wall:2024-03-10T12:34:56.123456',
          instantAsWall ? 'wall:2024-03-10T23:59:59.5' : `instant:${TSTZ_EPOCH}.5`,
          'bytes:00ff0a',
        ],
        [
          'num:2',
          `str:${BACKSLASH}`,
          'null',
          'num:99999999999999999999999999999.999999999',
          'str:123456789012345678901234567890.5',
          'num:-9223372036854775808',
          'bool:false',
          'date:2024-02-29',
          'wall:2024-03-11T00:00:00',
          instantAsWall ? 'wall:2024-03-11T00:00:00.000001' : `instant:${TSTZ2_EPOCH}.000001`,
          'bytes:',
        ],
        ['num:3', ...Array<string>(10).fill('null')],
      ]);
      const info = await db.ingestedFile(m.job, m.sha256);
      assert.ok(info);
      assert.deepEqual({ ...info, at: 0 }, { fileName: 'values.csv', businessDate: '2024-03-10', rows: 3, at: 0 });
      assert.ok(Math.abs(info.at - Date.now()) < 60_000, 'ingested_at is epoch ms');
    });

    test(`${h.label}: upsert — last row of a repeated key wins, existing rows updated, others untouched`, { skip }, async () => {
      const table = await newTable('ferry_in_upsert', `region ${t.key} NOT NULL, id ${t.int} NOT NULL, v ${t.text}, n ${t.int}, PRIMARY KEY (region, id)`);
      await h.exec(`INSERT INTO ${table} (region, id, v, n) VALUES ('kr', 1, 'old', 0), ('kr', 999999, 'untouched', 7)`);
      // 30,000 rows over 10,000 keys: every key three times, 10,000 rows apart (inside one
      // MariaDB statement and across statements), then kr/1 twice in a row at the end.
      const keyOf = (k: number): [string, number] => [k % 2 === 0 ? 'kr' : 'jp', Math.floor(k / 2)];
      const rows = async function* (): AsyncGenerator<Value[]> {
        for (let i = 0; i < 30000; i++) yield [...keyOf(i % 10000), `v${i}`, i];
        yield ['kr', 1, 'adjacent-1', -1];
        yield ['kr', 1, 'adjacent-2', -2];
      };
      const n = await db.ingest(marker(), (tx) => tx.load({ table, columns: ['region', 'id', 'v', 'n'], mode: 'upsert', key: ['region', 'id'] }, rows()), {
        timezone: ZONE,
      });
      assert.equal(n, 30002);
      const expected: string[][] = [];
      for (let k = 0; k < 10000; k++) {
        const [region, id] = keyOf(k);
        if (region === 'kr' && id === 1) expected.push(['str:kr', 'num:1', 'str:adjacent-2', 'num:-2']);
        else expected.push([`str:${region}`, `num:${id}`, `str:v${k + 20000}`, `num:${k + 20000}`]);
      }
      expected.push(['str:kr', 'num:999999', 'str:untouched', 'num:7']);
      const sortKey = (r: string[]): string => `${r[0]}|${r[1]!.slice(4).padStart(8, '0')}`;
      expected.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
      const got = (await read(`SELECT region, id, v, n FROM ${table}`)).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
      assert.equal(got.length, 10001);
      assert.deepEqual(got, expected);
    });

    test(`${h.label}: replace removes only the rows of that date (schema-qualified table)`, { skip }, async () => {
      const table = await newTable('ferry_in_replace', `bd ${t.key} NOT NULL, id ${t.int} NOT NULL, v ${t.text}, PRIMARY KEY (bd, id)`, true);
      await h.exec(
        `INSERT INTO ${table} (bd, id, v) VALUES ('2024-03-10', 1, 'a'), ('2024-03-10', 2, 'b'), ('2024-03-10', 3, 'c'), ` +
          `('2024-03-11', 1, 'keep1'), ('2024-03-11', 2, 'keep2')`,
      );
      const target = { table, columns: ['bd', 'id', 'v'], mode: 'replace' as const, replace: { column: 'bd', value: '2024-03-10' } };
      const rows: Value[][] = [
        ['2024-03-10', 1, 'new1'],
        ['2024-03-10', 5, 'new5'],
      ];
      assert.equal(await db.ingest(marker(), (tx) => tx.load(target, from(rows)), { timezone: ZONE }), 2);
      assert.deepEqual(await read(`SELECT bd, id, v FROM ${table} ORDER BY bd, id`), [
        ['str:2024-03-10', 'num:1', 'str:new1'],
        ['str:2024-03-10', 'num:5', 'str:new5'],
        ['str:2024-03-11', 'num:1', 'str:keep1'],
        ['str:2024-03-11', 'num:2', 'str:keep2'],
      ]);
    });

    describe(`${h.label}: atomicity`, () => {
      let table = '';
      const before1 = [['num:0', 'str:seed', 'str:x']];
      const snapshot = (): Promise<string[][]> => read(`SELECT id, name, short FROM ${table} ORDER BY id`);
      const assertUnchanged = async (m: IngestMarker): Promise<void> => {
        assert.deepEqual(await snapshot(), before1);
        assert.equal(await db.ingestedFile(m.job, m.sha256), undefined, 'no marker');
      };
      const good = (i: number): Value[] => [i + 1, `name ${i}`, 'ok'];

      before(async () => {
        if (skip) return;
        table = await newTable('ferry_in_atomic', `id ${t.int} PRIMARY KEY, name ${t.text} NOT NULL, short ${t.varchar5}`);
        await h.exec(`INSERT INTO ${table} (id, name, short) VALUES (0, 'seed', 'x')`);
      });

      test('fn throws after loading 10,000 rows: its own error, nothing kept', { skip }, async () => {
        const m = marker();
        const boom = new Error('boom after load');
        await assert.rejects(
          db.ingest(
            m,
            async (tx) => {
              assert.equal(await tx.load({ table, columns: ['id', 'name', 'short'], mode: 'insert' }, generate(10000, good)), 10000);
              throw boom;
            },
            { timezone: ZONE },
          ),
          (e) => e === boom,
        );
        await assertUnchanged(m);
      });

      test('the rows source fails mid-file: its error, nothing kept', { skip }, async () => {
        const m = marker();
        const parse = new Error('bad line 5001');
        async function* rows(): AsyncGenerator<Value[]> {
          for (let i = 0; i < 5000; i++) yield good(i);
          throw parse;
        }
        await assert.rejects(
          db.ingest(m, (tx) => tx.load({ table, columns: ['id', 'name', 'short'], mode: 'insert' }, rows()), { timezone: ZONE }),
          (e) => e === parse,
        );
        await assertUnchanged(m);
      });

      // Errors of the run (a unique key, a broken row): DatabaseError naming the table.
      const violations: [string, (i: number) => Value[], RegExp][] = [
        ['unique key in insert mode', (i) => (i === 7000 ? [11, 'dup', 'ok'] : good(i)), /duplicate|unique/i],
        ['a row with the wrong number of values', (i) => (i === 6000 ? [i + 1, 'x'] : good(i)), /row 6001 has 2 values for 3 columns/],
      ];
      // Errors of the data the database reports (a value its column refuses): a rejection naming
      // the row of the load when the driver says it (MySQL's NOT NULL error does not).
      const refusals: [string, (i: number) => Value[], number | undefined, string, RegExp][] = [
        ['NOT NULL', (i) => (i === 5000 ? [i + 1, null, 'ok'] : good(i)), h.dialect === 'mysql' ? undefined : 5001, 'name', /null/i],
      ];
      if (h.dialect !== 'sqlite') {
        // SQLite enforces neither declared lengths nor types.
        refusals.push(['value too long', (i) => (i === 8000 ? [i + 1, 'x', 'toolong'] : good(i)), 8001, 'short', /too long/i]);
        refusals.push(['type mismatch', (i) => (i === 9000 ? ['abc', 'x', 'ok'] : good(i)), 9001, 'id', /integer|invalid input|incorrect/i]);
      }
      for (const [what, make, reason] of violations) {
        test(`${what} in the middle: DatabaseError naming the table, nothing kept`, { skip }, async () => {
          const m = marker();
          await assert.rejects(
            db.ingest(m, (tx) => tx.load({ table, columns: ['id', 'name', 'short'], mode: 'insert' }, generate(10000, make)), { timezone: ZONE }),
            (e) => {
              assert.ok(e instanceof DatabaseError, String(e));
              assert.match(e.message, new RegExp(table.replace(/[.]/g, '\\.')));
              assert.match(e.message, reason);
              assert.doesNotMatch(e.message, /postgres:\/\/|mysql:\/\//);
              return true;
            },
          );
          await assertUnchanged(m);
        });
      }
      for (const [what, make, row, column, reason] of refusals) {
        test(`${what} in the middle: a rejection naming row and column, nothing kept`, { skip }, async () => {
          const m = marker();
          await assert.rejects(
            db.ingest(m, (tx) => tx.load({ table, columns: ['id', 'name', 'short'], mode: 'insert' }, generate(10000, make)), { timezone: ZONE }),
            (e) => {
              assert.ok(e instanceof RejectedRowError, String(e));
              assert.equal(e.row, row);
              assert.equal(e.column, column);
              assert.match(e.detail, reason);
              assert.doesNotMatch(e.message, /postgres:\/\/|mysql:\/\//);
              return true;
            },
          );
          await assertUnchanged(m);
        });
      }

      test('identifiers with quotes are refused', { skip }, async () => {
        const m = marker();
        await assert.rejects(
          db.ingest(m, (tx) => tx.load({ table, columns: ['id', 'na"me'], mode: 'insert' }, from([])), { timezone: ZONE }),
          ConfigError,
        );
        await assert.rejects(
          db.ingest(m, (tx) => tx.load({ table: `${table}\`; drop`, columns: ['id'], mode: 'insert' }, from([])), { timezone: ZONE }),
          ConfigError,
        );
        await assertUnchanged(m);
      });
    });

    test(`${h.label}: marker — duplicate refused, replaceMarker reingests`, { skip }, async () => {
      const table = await newTable('ferry_in_marker', `id ${t.int} PRIMARY KEY, v ${t.text}`);
      const m = marker('again.csv', '2024-03-11');
      const target = { table, columns: ['id', 'v'], mode: 'insert' as const };
      assert.equal(await db.ingestedFile(m.job, m.sha256), undefined);
      assert.equal(await db.ingest(m, (tx) => tx.load(target, from([[1, 'a'], [2, 'b']])), { timezone: ZONE }), 2);
      assert.equal((await db.ingestedFile(m.job, m.sha256))?.rows, 2);

      let called = false;
      await assert.rejects(
        db.ingest(
          m,
          async (tx) => {
            called = true;
            return tx.load(target, from([[3, 'c']]));
          },
          { timezone: ZONE },
        ),
        (e) => e instanceof DuplicateIngestError && /already ingested by another run/.test(e.message),
      );
      assert.equal(called, false, 'fn does not run for a duplicate');
      assert.deepEqual(await read(`SELECT id, v FROM ${table} ORDER BY id`), [
        ['num:1', 'str:a'],
        ['num:2', 'str:b'],
      ]);

      // The operator's reingest: the old marker is replaced and the rows reloaded.
      const n = await db.ingest(
        m,
        async (tx) => {
          await (tx.knex as Knex.Transaction)(table).delete();
          return tx.load(target, from([[1, 'a2'], [2, 'b2'], [3, 'c2']]));
        },
        { timezone: ZONE, replaceMarker: true },
      );
      assert.equal(n, 3);
      const info = await db.ingestedFile(m.job, m.sha256);
      assert.equal(info?.rows, 3);
      assert.equal(info?.businessDate, '2024-03-11');
      assert.equal(await count(table), 3);
    });

    test(`${h.label}: two runs of the same file at once — one loads, the other gets DuplicateIngestError`, { skip }, async () => {
      const table = await newTable('ferry_in_race', `id ${t.int} PRIMARY KEY, v ${t.text}`);
      const target = { table, columns: ['id', 'v'], mode: 'insert' as const };
      const other = await h.open();
      try {
        // 1. Held open: the second run must wait on the marker until the first commits.
        const m = marker();
        let started!: () => void;
        const isStarted = new Promise<void>((r) => (started = r));
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const first = db.ingest(
          m,
          async (tx) => {
            const n = await tx.load(target, generate(1000, (i) => [i, `a${i}`]));
            started();
            await gate;
            return n;
          },
          { timezone: ZONE },
        );
        await isStarted;
        let secondRan = false;
        const second = other.ingest(
          m,
          async (tx) => {
            secondRan = true;
            return tx.load(target, generate(1000, (i) => [i, `b${i}`]));
          },
          { timezone: ZONE },
        );
        const settled = await Promise.race([second.then(() => 'settled', () => 'settled'), sleep(700).then(() => 'waiting')]);
        assert.equal(settled, 'waiting', 'the second run waits for the first');
        release();
        assert.equal(await first, 1000);
        await assert.rejects(second, DuplicateIngestError);
        assert.equal(secondRan, false);
        assert.equal(await count(table), 1000);

        // 2. Started together.
        const m2 = marker();
        const load = (d: SourceDatabase, off: number): Promise<number> =>
          d.ingest(m2, (tx) => tx.load(target, generate(500, (i) => [off + i, `c${i}`])), { timezone: ZONE });
        const results = await Promise.allSettled([load(db, 10000), load(other, 10000)]);
        const ok = results.filter((r) => r.status === 'fulfilled');
        const failed = results.filter((r) => r.status === 'rejected');
        assert.equal(ok.length, 1, JSON.stringify(results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.value))));
        assert.ok(failed[0]!.reason instanceof DuplicateIngestError, String(failed[0]!.reason));
        assert.equal(await count(table), 1500);
      } finally {
        await other.close();
      }
    });

    test(`${h.label}: 200,000 rows × 5 columns`, { skip }, async (tc) => {
      const table = await newTable('ferry_in_bulk', `id ${t.bigint} PRIMARY KEY, name ${t.text}, amt ${t.decimal}, d ${t.date}, ts ${t.wall}`);
      const N = 200_000;
      const make = (i: number): Value[] => [
        BigInt(i),
        `name ${i} 한국어, "q"`,
        new Decimal(`${i}.${String(i % 1000).padStart(9, '0')}`),
        new LocalDate(`2024-03-${String((i % 28) + 1).padStart(2, '0')}`),
        new WallTime(`2024-03-10T12:${String(i % 60).padStart(2, '0')}:00.${String(i % 1000000).padStart(6, '0')}`),
      ];
      const t0 = performance.now();
      const n = await db.ingest(marker('bulk.csv'), (tx) => tx.load({ table, columns: ['id', 'name', 'amt', 'd', 'ts'], mode: 'insert' }, generate(N, make)), {
        timezone: ZONE,
      });
      const secs = (performance.now() - t0) / 1000;
      tc.diagnostic(`${h.label}: ${N} rows in ${secs.toFixed(2)} s = ${Math.round(N / secs)} rows/s`);
      assert.equal(n, N);
      assert.deepEqual(await read(`SELECT count(*), sum(id), min(id), max(id) FROM ${table}`), [[`num:${N}`, `num:${(N * (N - 1)) / 2}`, 'num:0', `num:${N - 1}`]]);
      for (const i of [0, 1, 123457, N - 1]) {
        const expected = make(i).map(tag);
        // Wall times read back without trailing fraction zeros.
        expected[4] = expected[4]!.replace(/0+$/, '').replace(/\.$/, '');
        assert.deepEqual(await read(`SELECT id, name, amt, d, ts FROM ${table} WHERE id = ${i}`), [expected]);
      }
    });
  });
}

describe('WallClock (Instant → wall time of a zone)', () => {
  test('DST and historic offsets come from the zone at that instant', () => {
    const seoul = new WallClock('Asia/Seoul');
    // Korea had summer time in 1988 (UTC+10) and LMT +08:27:52 before 1908.
    assert.equal(seoul.wall(new Instant(Date.UTC(1988, 6, 1, 12, 0, 0) / 1000, '')), '1988-07-01 22:00:00');
    assert.equal(seoul.wall(new Instant(Date.UTC(2024, 6, 1, 12, 0, 0) / 1000, '123456')), '2024-07-01 21:00:00.123456');
    assert.equal(seoul.wall(new Instant(Date.UTC(1900, 0, 1, 0, 0, 0) / 1000, '')), '1900-01-01 08:27:52');
    const ny = new WallClock('America/New_York');
    // 2024-03-10 07:00 UTC is 03:00 EDT; one second earlier is 01:59:59 EST.
    assert.equal(ny.wall(new Instant(Date.UTC(2024, 2, 10, 7, 0, 0) / 1000, '')), '2024-03-10 03:00:00');
    assert.equal(ny.wall(new Instant(Date.UTC(2024, 2, 10, 6, 59, 59) / 1000, '5')), '2024-03-10 01:59:59.5');
    assert.equal(new WallClock('+09:00').wall(new Instant(0, '')), '1970-01-01 09:00:00');
    assert.equal(new WallClock('-03:30').wall(new Instant(0, '')), '1969-12-31 20:30:00');
  });
});

suite('SQLite', sqliteHarness);
suite('PostgreSQL', pgHarness);
suite('MariaDB', mysqlHarness);
