/**
 * The state store contract on a real PostgreSQL. Each test gets its own schema (`?schema=`), which
 * is dropped afterwards. The server comes from FERRY_TEST_PG_URL (default: the local test
 * database with trust auth); set FERRY_TEST_PG_URL=skip to leave these tests out.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import knexFactory from 'knex';
import { openStateStore } from '../../src/state/index.js';
import { defineStateStoreSuite } from './store-suite.js';
import { PG_URL } from '../helpers/servers.js';

const baseUrl = PG_URL;
const skip = baseUrl === 'skip';

// One admin connection for inspecting and dropping the test schemas.
const admin = skip ? undefined : knexFactory({ client: 'pg', connection: baseUrl, pool: { min: 0, max: 2 } });
const created = new Set<string>();

after(async () => {
  if (!admin) return;
  // Safety net for schemas a failed test could not drop itself.
  for (const schema of created) await admin.raw('drop schema if exists ?? cascade', [schema]);
  await admin.destroy();
});

function schemaUrl(schema: string): string {
  const u = new URL(baseUrl);
  u.searchParams.set('schema', schema);
  return u.toString();
}

function uniqueSchema(): string {
  const schema = `ferry_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  created.add(schema);
  return schema;
}

async function dropSchema(schema: string): Promise<void> {
  await admin!.raw('drop schema if exists ?? cascade', [schema]);
  created.delete(schema);
}

if (skip) {
  describe('state store on PostgreSQL', () => {
    it('is skipped (FERRY_TEST_PG_URL=skip)', { skip: true }, () => undefined);
  });
} else {
  defineStateStoreSuite('PostgreSQL', {
    async fresh() {
      const schema = uniqueSchema();
      return {
        open: () => openStateStore(schemaUrl(schema), '.'),
        async migrationVersions() {
          const rows = (await admin!.raw('select version from ??.ferry_migrations order by version', [schema])) as {
            rows: Array<{ version: number }>;
          };
          return rows.rows.map((r) => r.version);
        },
        dispose: () => dropSchema(schema),
      };
    },
  });

  describe('PostgreSQL state store specifics', () => {
    it('keeps every table in the schema named by ?schema=', async () => {
      const schema = uniqueSchema();
      const store = await openStateStore(schemaUrl(schema), '.');
      try {
        await store.acquireLease({ job: 'j', businessDate: '2026-11-20', kind: 'export', owner: 'o', ttlMs: 1000 });
        const res = (await admin!.raw(
          'select table_name from information_schema.tables where table_schema = ? order by table_name',
          [schema],
        )) as { rows: Array<{ table_name: string }> };
        assert.deepEqual(
          res.rows.map((r) => r.table_name),
          ['ferry_attempts', 'ferry_deliveries', 'ferry_files', 'ferry_inbox', 'ferry_instances', 'ferry_migrations', 'ferry_sightings'],
        );
        const count = (await admin!.raw('select count(*)::int as n from ??.ferry_instances', [schema])) as {
          rows: Array<{ n: number }>;
        };
        assert.equal(count.rows[0]?.n, 1);
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    });

    it('stores times and sizes as bigint columns', async () => {
      const schema = uniqueSchema();
      const store = await openStateStore(schemaUrl(schema), '.');
      try {
        const res = (await admin!.raw(
          `select table_name || '.' || column_name as col from information_schema.columns
            where table_schema = ? and data_type = 'bigint' order by 1`,
          [schema],
        )) as { rows: Array<{ col: string }> };
        const cols = res.rows.map((r) => r.col);
        for (const col of [
          'ferry_instances.lease_expires_at',
          'ferry_instances.created_at',
          'ferry_attempts.started_at',
          'ferry_files.size',
          'ferry_deliveries.at',
        ]) {
          assert.ok(cols.includes(col), `${col} is bigint`);
        }
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    });
  });
}
