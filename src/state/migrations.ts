/**
 * Numbered schema migrations of the state store, applied in order and recorded in
 * `ferry_migrations`. We do not use knex's file-based migrator: it loads migration files from a
 * folder at run time (awkward once compiled and packaged) and its lock table is a second source of
 * truth. A plain ordered list is easy to read and to test.
 *
 * Rules for adding a migration: append a new entry with the next number, never edit or reorder
 * an applied one, and write it so it runs unchanged on SQLite and PostgreSQL (knex schema builder).
 */

import type { Knex } from 'knex';

/** The two databases the state store supports. */
export type StateDialect = 'sqlite' | 'postgres';

/** One schema step. `up` runs inside the migration transaction and must use `trx` only. */
export interface Migration {
  /** 1, 2, 3, … without gaps. */
  version: number;
  /** Short description, recorded next to the version. */
  name: string;
  up(trx: Knex.Transaction, dialect: StateDialect): Promise<void>;
}

/** Every migration, oldest first. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'instances, attempts, files, deliveries',
    async up(trx) {
      // Epoch-millisecond times and byte sizes are bigint: an int4 overflows in 2038 for seconds
      // and at 2 GiB for sizes. Free text is `text` so a long path or error never fails an insert.
      await trx.schema.createTable('ferry_instances', (t) => {
        t.text('job').notNullable();
        t.string('business_date', 10).notNullable();
        t.string('kind', 16).notNullable();
        t.string('status', 16).notNullable();
        t.integer('failures').notNullable().defaultTo(0);
        t.text('outcome').nullable();
        t.text('last_error').nullable();
        t.text('lease_owner').nullable();
        t.bigInteger('lease_expires_at').nullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('updated_at').notNullable();
        t.primary(['job', 'business_date']);
        // listInstances({ since }) without a job filters on the date alone.
        t.index(['business_date'], 'ferry_instances_business_date_idx');
      });

      await trx.schema.createTable('ferry_attempts', (t) => {
        t.increments('id').primary();
        t.text('job').notNullable();
        t.string('business_date', 10).notNullable();
        t.text('run_id').notNullable();
        t.string('status', 16).notNullable();
        t.text('outcome').nullable();
        t.text('error').nullable();
        t.boolean('forced').notNullable().defaultTo(false);
        t.bigInteger('started_at').notNullable();
        t.bigInteger('finished_at').nullable();
        t.index(['job', 'business_date'], 'ferry_attempts_job_date_idx');
      });

      await trx.schema.createTable('ferry_files', (t) => {
        t.increments('id').primary();
        t.integer('attempt_id').notNullable().references('id').inTable('ferry_attempts');
        t.text('job').notNullable();
        t.string('business_date', 10).notNullable();
        t.text('name').notNullable();
        t.text('archive_path').notNullable();
        t.bigInteger('size').notNullable();
        t.bigInteger('rows').notNullable();
        t.string('sha256', 64).notNullable();
        t.integer('seq').notNullable().defaultTo(0);
        t.bigInteger('created_at').notNullable();
        t.index(['job', 'business_date'], 'ferry_files_job_date_idx');
        // history() loads the files of a page of attempts by attempt id.
        t.index(['attempt_id'], 'ferry_files_attempt_idx');
      });

      await trx.schema.createTable('ferry_deliveries', (t) => {
        t.increments('id').primary();
        t.integer('file_id').notNullable().references('id').inTable('ferry_files');
        t.integer('attempt_id').notNullable().references('id').inTable('ferry_attempts');
        t.text('connection').notNullable();
        t.text('remote_path').notNullable();
        t.string('status', 16).notNullable();
        t.text('error').nullable();
        t.boolean('resend').notNullable().defaultTo(false);
        t.bigInteger('at').notNullable();
        // deliveriesOf() and history() look deliveries up by file.
        t.index(['file_id'], 'ferry_deliveries_file_idx');
      });
    },
  },
  {
    version: 2,
    name: 'inbox of received files, sightings of remote files',
    async up(trx) {
      await trx.schema.createTable('ferry_inbox', (t) => {
        t.increments('id').primary();
        t.integer('attempt_id').notNullable().references('id').inTable('ferry_attempts');
        t.text('job').notNullable();
        t.string('business_date', 10).notNullable();
        t.text('connection').notNullable();
        t.text('remote_path').notNullable();
        t.text('name').notNullable();
        t.bigInteger('size').notNullable();
        t.bigInteger('mtime').nullable();
        t.string('sha256', 64).notNullable();
        t.string('status', 16).notNullable();
        t.bigInteger('rows').nullable();
        t.text('error').nullable();
        t.boolean('late').notNullable().defaultTo(false);
        t.text('local_path').nullable();
        t.bigInteger('received_at').notNullable();
        t.bigInteger('finished_at').nullable();
        t.index(['job', 'sha256'], 'ferry_inbox_job_sha_idx');
        t.index(['job', 'business_date'], 'ferry_inbox_job_date_idx');
        t.index(['attempt_id'], 'ferry_inbox_attempt_idx');
      });
      // Completeness by stability: when a remote file was first seen with its current size and mtime.
      await trx.schema.createTable('ferry_sightings', (t) => {
        t.text('job').notNullable();
        t.text('connection').notNullable();
        t.text('remote_path').notNullable();
        t.bigInteger('size').notNullable();
        t.bigInteger('mtime').nullable();
        t.bigInteger('first_seen_at').notNullable();
        t.primary(['job', 'connection', 'remote_path']);
      });
    },
  },
];

/** The schema version this build of ferry expects. */
export const latestVersion: number = migrations.reduce((max, m) => Math.max(max, m.version), 0);

// An arbitrary constant namespace for PostgreSQL advisory locks taken by ferry ("FRRY" in ASCII),
// so our lock cannot collide with an application's single-key advisory locks.
const ADVISORY_NAMESPACE = 0x46525259;

/**
 * Apply every migration newer than the recorded version, in one transaction, so that several
 * processes starting at once all end up with the same schema and none of them fails.
 *
 * - PostgreSQL: `pg_advisory_xact_lock` serialises concurrent migrators (released at commit);
 *   the recorded version is read only after the lock is held.
 * - SQLite: the first statement of the transaction is a write, which takes the database's write
 *   lock while the transaction has no read snapshot yet, so a second process waits in
 *   `busy_timeout` instead of failing with SQLITE_BUSY on a read→write upgrade; the version is
 *   then re-read under that lock.
 *
 * @param schema PostgreSQL schema to create and migrate (ignored for SQLite).
 * @throws Error when the database was migrated by a newer ferry (unknown versions).
 */
export async function applyMigrations(knex: Knex, dialect: StateDialect, schema: string): Promise<void> {
  checkList();
  if (dialect === 'sqlite') {
    // Outside the transaction: `CREATE TABLE IF NOT EXISTS` on an existing table is a no-op that
    // takes no write lock, so it cannot serve as the lock-taking first statement below.
    await knex.raw(
      'create table if not exists ferry_migrations (version integer primary key, name text not null, applied_at bigint not null)',
    );
  }

  await knex.transaction(async (trx) => {
    if (dialect === 'postgres') {
      await trx.raw('select pg_advisory_xact_lock(?, hashtext(?))', [ADVISORY_NAMESPACE, `ferry:migrate:${schema}`]);
      // Look before creating: CREATE SCHEMA checks the CREATE privilege on the database even with
      // IF NOT EXISTS, and a shared production role usually lacks it for an existing schema.
      const found = await trx.raw('select 1 from pg_namespace where nspname = ?', [schema]);
      if ((found as { rows: unknown[] }).rows.length === 0) await trx.raw('create schema ??', [schema]);
      await trx.raw(
        'create table if not exists ??.ferry_migrations (version integer primary key, name text not null, applied_at bigint not null)',
        [schema],
      );
    } else {
      // Version 0 is a baseline row whose only job is to make this first statement a write
      // (an ignored insert still takes the write lock).
      await trx.raw('insert or ignore into ferry_migrations (version, name, applied_at) values (0, ?, ?)', [
        'baseline',
        Date.now(),
      ]);
    }

    const row = (await trx('ferry_migrations').max({ v: 'version' }).first()) as { v: unknown } | undefined;
    const current = row?.v == null ? 0 : Number(row.v);
    if (current > latestVersion) {
      throw new Error(
        `the state store is at schema version ${current} but this ferry only knows up to ${latestVersion}; upgrade ferry`,
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      try {
        await m.up(trx, dialect);
      } catch (e) {
        throw new Error(`migration ${m.version} (${m.name}) failed`, { cause: e });
      }
      await trx('ferry_migrations').insert({ version: m.version, name: m.name, applied_at: Date.now() });
    }
  });
}

/** Guards against a mis-edited list: versions must be 1..n in order. */
function checkList(): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`internal: migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
}
