// The PostgreSQL COPY fast path must write exactly the bytes of ferry's csv rules: quoting only
// when needed, '' as "" and NULL as an empty field, timestamps with the config zone's offset.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import pg from 'pg';
import type { ResolvedColumn } from '../../src/formats/types.js';
import { encodeFile, resolveColumns } from '../../src/formats/index.js';
import type { SourceDatabase } from '../../src/database/index.js';
import { PG_URL, openPg, uniqueName, unavailable } from './helpers.js';

const ZONE = 'America/New_York';

function col(source: string, index: number, type: ResolvedColumn['type'], extra: Partial<ResolvedColumn> = {}): ResolvedColumn {
  return { source, index, key: source, type, ...extra };
}

const COLUMNS: ResolvedColumn[] = [
  col('id', 0, 'int'),
  col('s', 1, 'string', { key: 'text' }),
  col('e', 2, 'string', { key: 'empty' }),
  col('n', 3, 'int'),
  col('amt', 4, 'decimal'),
  col('b', 5, 'bool'),
  col('d', 6, 'date'),
  col('ts', 7, 'timestamp'),
  col('tstz', 8, 'timestamptz'),
];

describe('PostgreSQL exportCsv', async () => {
  const skip = await unavailable(openPg);
  const table = uniqueName('ferry_copy');
  let client: pg.Client;
  let db: SourceDatabase;
  before(async () => {
    if (skip) return;
    client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`CREATE TABLE ${table} (id int, s text, e text, n int, amt numeric, b boolean, d date,
      ts timestamp, tstz timestamptz)`);
    await client.query(`INSERT INTO ${table} VALUES
      (1, 'he said "hi", then' || chr(10) || 'left', '', 5, 0.10, true, '2024-03-10',
       '2024-03-10 01:30:00', '2024-03-10 12:00:00.5Z'),
      (2, NULL, NULL, NULL, -1.5, false, NULL, '2024-07-01 12:00:00.123456', '2024-01-15 05:00:00Z'),
      (3, 'a|b', 'x', -3, 12345678901234567890.000100, NULL, '0999-12-31', '2024-11-03 01:30:00', '2024-11-03 06:30:00.000010Z')`);
    db = await openPg();
  });
  after(async () => {
    await db?.close();
    await client?.query(`DROP TABLE IF EXISTS ${table}`);
    await client?.end();
  });

  test('bytes equal a hand-written reference (header, quotes, newlines, "" vs NULL, DST offsets)', { skip }, async () => {
    const { stream, rowCount } = await db.exportCsv!(
      `SELECT * FROM ${table} WHERE id <= :n ORDER BY id`,
      { n: 3 },
      { columns: COLUMNS, delimiter: ',', header: true, timezone: ZONE },
    );
    const bytes = await buffer(stream);
    const expected =
      'id,text,empty,n,amt,b,d,ts,tstz\n' +
      // 01:30 on the spring-forward day is still EST; 12:00Z is 08:00 EDT.
      '1,"he said ""hi"", then\nleft","",5,0.10,true,2024-03-10,2024-03-10T01:30:00-05:00,2024-03-10T08:00:00.5-04:00\n' +
      '2,,,,-1.5,false,,2024-07-01T12:00:00.123456-04:00,2024-01-15T00:00:00-05:00\n' +
      // 01:30 on the fall-back day is ambiguous; PostgreSQL takes standard time (-05:00).
      '3,a|b,x,-3,12345678901234567890.000100,,0999-12-31,2024-11-03T01:30:00-05:00,2024-11-03T01:30:00.00001-05:00\n';
    assert.equal(bytes.toString('utf8'), expected);
    assert.equal(rowCount(), 3);
  });

  test('other delimiter, no header, custom boolean texts', { skip }, async () => {
    const columns = [col('id', 0, 'int'), col('s', 1, 'string'), col('b', 5, 'bool', { bool: ['Y', 'N'] })];
    const { stream, rowCount } = await db.exportCsv!(`SELECT * FROM ${table} ORDER BY id`, {}, {
      columns,
      delimiter: '|',
      header: false,
      timezone: ZONE,
    });
    assert.equal((await buffer(stream)).toString(), '1|"he said ""hi"", then\nleft"|Y\n2||N\n3|"a|b"|\n');
    assert.equal(rowCount(), 3);
  });

  // Cross-module check (needs src/formats encodeFile): the fast path and the row path must give
  // byte-identical files for the same query, including DST gaps/overlaps and LMT offsets.
  test('exportCsv equals encodeFile over query()', { skip }, async () => {
    const sql = `SELECT * FROM ${table} UNION ALL
      SELECT 10, ' lead', '\\.', 0, 0.0, true, '2024-03-10', '2024-03-10 02:30:00', '1880-01-01 12:00:00Z'
      UNION ALL SELECT 11, 'tab\there', '''', 1, -0.000001, false, '9999-12-31', '2024-11-03 01:59:59.999999', '2024-11-03 05:30:00Z'
      ORDER BY 1`;
    for (const delimiter of [',', '|', ';']) {
      const rs = await db.query(sql, {}, { timezone: ZONE });
      const format = { type: 'csv' as const, delimiter };
      const columns = resolveColumns(format, rs.columns);
      const opts = { format, columns, timezone: ZONE, businessDate: '2024-03-10', fileName: 'x.csv' };
      const parts: Buffer[] = [];
      for await (const b of encodeFile(rs.rows, opts, { rows: 0 })) parts.push(b);
      const viaRows = Buffer.concat(parts);
      const fast = await db.exportCsv!(sql, {}, { columns, delimiter, header: true, timezone: ZONE });
      const viaCopy = await buffer(fast.stream);
      assert.equal(viaCopy.toString(), viaRows.toString(), `delimiter ${delimiter}`);
      assert.equal(fast.rowCount(), 5);
    }
  });

  test('SQL errors are reported when the export starts, and the connection is reused', { skip }, async () => {
    await assert.rejects(
      db.exportCsv!(`SELECT nope FROM ${table}`, {}, { columns: [col('nope', 0, 'string')], delimiter: ',', header: true, timezone: ZONE }),
      /database "pgtest": COPY failed: .*nope/,
    );
    assert.match(await db.ping(), /^PostgreSQL/);
  });

  test('unsupported options are refused', { skip }, async () => {
    await assert.rejects(
      db.exportCsv!(`SELECT * FROM ${table}`, {}, { columns: [col('amt', 4, 'decimal', { decimals: 2 })], delimiter: ',', header: true, timezone: ZONE }),
      /fast path cannot write this file: column "amt": fixed decimals/,
    );
  });

  test('a consumer that stops early leaves no connection behind', { skip }, async () => {
    const big = `SELECT g AS id, repeat('x', 200) AS s FROM generate_series(1, 200000) g`;
    const { stream } = await db.exportCsv!(big, {}, { columns: [col('id', 0, 'int'), col('s', 1, 'string')], delimiter: ',', header: true, timezone: ZONE });
    for await (const chunk of stream) {
      assert.ok(chunk.length > 0);
      break;
    }
    // The aborted connection is dropped; later exports and close() still work.
    const again = await db.exportCsv!('SELECT 1 AS one', {}, { columns: [col('one', 0, 'int')], delimiter: ',', header: true, timezone: ZONE });
    assert.equal((await buffer(again.stream)).toString(), 'one\n1\n');
  });
});
