/**
 * The state store on SQLite (better-sqlite3) or PostgreSQL (pg), through one knex-based class.
 *
 * Dialect notes that shape this file:
 * - PostgreSQL returns bigint columns (times, sizes) as strings; every row passes through a mapper
 *   that turns them back into numbers. We do not install a global pg type parser because other
 *   modules read partners' int8 columns through pg and want strings there.
 * - Knex's SQLite pool is one connection, so no query may start on `this.knex` while a transaction
 *   callback is running on it (it would wait for the pool forever); transactions use `trx` only.
 * - better-sqlite3 is synchronous: when a statement meets a lock, `busy_timeout` sleeps *on the
 *   event loop*. Two connections to the same file inside one process could then deadlock (the
 *   sleeper blocks the holder from committing). Writes to one SQLite file are therefore queued
 *   per process (`serialize`); other processes are separate threads of control and simply wait.
 */

import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type BetterSqlite3 from 'better-sqlite3';
import { FerryError, StateError } from '../errors.js';
import { applyMigrations, type StateDialect } from './migrations.js';
import type {
  AttemptRecord,
  AttemptStatus,
  DeliveryRecord,
  FileRecord,
  InboxRecord,
  InboxStatus,
  InboxUpdate,
  InstanceFilter,
  InstanceRecord,
  InstanceStatus,
  LeaseRequest,
  NewDelivery,
  NewFile,
  NewInboxFile,
  StateStore,
} from './types.js';

/** Where the state lives, after the URL has been parsed (see `openStateStore`). */
export type StateTarget =
  | {
      dialect: 'sqlite';
      /** Absolute path of the database file, or `:memory:`. */
      filename: string;
    }
  | {
      dialect: 'postgres';
      /** libpq-style URL for pg, without ferry's own `schema` parameter. */
      connectionString: string;
      /** Schema holding the ferry_* tables (created when missing). */
      schema: string;
      /** The URL with any password masked, for messages. */
      display: string;
    };

const T = {
  instances: 'ferry_instances',
  attempts: 'ferry_attempts',
  files: 'ferry_files',
  deliveries: 'ferry_deliveries',
  inbox: 'ferry_inbox',
  sightings: 'ferry_sightings',
} as const;

/** Per-process write queues, keyed by absolute SQLite file name (see the file comment). */
const sqliteQueues = new Map<string, Promise<void>>();

async function serialize<R>(key: string, fn: () => Promise<R>): Promise<R> {
  const previous = sqliteQueues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const tail = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
  sqliteQueues.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    // Drop the entry when nobody queued behind us, so the map does not grow per file forever.
    if (sqliteQueues.get(key) === tail) sqliteQueues.delete(key);
  }
}

/**
 * `StateStore` implemented with knex for SQLite and PostgreSQL. Create it with
 * `KnexStateStore.open` (or `openStateStore` in `./index.js`), which also migrates the schema.
 *
 * Times are the calling host's `Date.now()`, never the database clock, so that SQLite and
 * PostgreSQL behave the same. Hosts sharing a PostgreSQL store must therefore keep their clocks
 * in sync (NTP): a host whose clock runs ahead sees other hosts' leases expire early.
 */
export class KnexStateStore implements StateStore {
  private closed = false;

  private constructor(
    private readonly knex: Knex,
    private readonly target: StateTarget,
  ) {}

  /**
   * Connect, migrate and return a ready store.
   * @throws StateError when the database cannot be opened or migrated (the cause is attached).
   */
  static async open(target: StateTarget): Promise<KnexStateStore> {
    let knex: Knex | undefined;
    try {
      const k = createKnex(target);
      knex = k;
      const store = new KnexStateStore(k, target);
      // Probe first so that an unreachable server reads as "cannot open", not "cannot migrate".
      // Queued like a write on SQLite: the first query creates the connection and its pragmas
      // (journal_mode) may need a lock another in-process connection holds.
      await store.write(() => k.raw('select 1'));
      await store.migrate();
      return store;
    } catch (e) {
      await knex?.destroy().catch(() => undefined);
      if (e instanceof StateError) throw e;
      throw new StateError(`state: cannot open state store ${describeTarget(target)}`, { cause: e });
    }
  }

  private get dialect(): StateDialect {
    return this.target.dialect;
  }

  async migrate(): Promise<void> {
    this.assertOpen();
    const schema = this.target.dialect === 'postgres' ? this.target.schema : 'main';
    try {
      await this.write(() => applyMigrations(this.knex, this.dialect, schema));
    } catch (e) {
      throw new StateError(`state: cannot migrate state store ${describeTarget(this.target)}`, { cause: e });
    }
  }

  async getInstance(job: string, businessDate: string): Promise<InstanceRecord | undefined> {
    return this.op('read instance', async () => {
      const row = await this.knex(T.instances).where({ job, business_date: businessDate }).first();
      return row ? toInstance(row as Row) : undefined;
    });
  }

  async acquireLease(req: LeaseRequest): Promise<InstanceRecord | undefined> {
    assertTtl(req.ttlMs);
    return this.op(`acquire lease on ${req.job} ${req.businessDate}`, () =>
      this.write(async () => {
        const now = Date.now();
        // One statement, so it is atomic on both databases without a transaction: insert the
        // instance already leased to us, or, when it exists, take the lease only if it is free,
        // ours, or expired. A refused update inserts nothing and RETURNING yields no row, which
        // is how the loser learns it lost (PostgreSQL re-checks the WHERE on the latest row
        // version after waiting for a concurrent winner, SQLite holds the write lock).
        const rows = (await this.knex(T.instances)
          .insert({
            job: req.job,
            business_date: req.businessDate,
            kind: req.kind,
            status: 'pending' satisfies InstanceStatus,
            failures: 0,
            outcome: null,
            last_error: null,
            lease_owner: req.owner,
            lease_expires_at: now + req.ttlMs,
            created_at: now,
            updated_at: now,
          })
          .onConflict(['job', 'business_date'])
          .merge(['lease_owner', 'lease_expires_at'])
          .where((w) => {
            w.whereNull(`${T.instances}.lease_owner`)
              .orWhere(`${T.instances}.lease_owner`, req.owner)
              .orWhereNull(`${T.instances}.lease_expires_at`)
              .orWhere(`${T.instances}.lease_expires_at`, '<', now);
            if (req.takeOverFrom) w.orWhere(`${T.instances}.lease_owner`, req.takeOverFrom);
          })
          .returning('*')) as Row[];
        const row = rows[0];
        return row ? toInstance(row) : undefined;
      }),
    );
  }

  async renewLease(job: string, businessDate: string, owner: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    return this.op(`renew lease on ${job} ${businessDate}`, () =>
      this.write(async () => {
        // Still ours even if it lapsed, as long as nobody took it over meanwhile.
        const changed = await this.knex(T.instances)
          .where({ job, business_date: businessDate, lease_owner: owner })
          .update({ lease_expires_at: Date.now() + ttlMs });
        return changed > 0;
      }),
    );
  }

  async releaseLease(job: string, businessDate: string, owner: string): Promise<void> {
    await this.op(`release lease on ${job} ${businessDate}`, () =>
      this.write(async () => {
        await this.knex(T.instances)
          .where({ job, business_date: businessDate, lease_owner: owner })
          .update({ lease_owner: null, lease_expires_at: null });
      }),
    );
  }

  async setInstanceStatus(
    job: string,
    businessDate: string,
    status: InstanceStatus,
    detail: { outcome?: string | null; error?: string | null; resetFailures?: boolean } = {},
  ): Promise<void> {
    await this.op(`set status of ${job} ${businessDate}`, () =>
      this.write(async () => {
        // One UPDATE computes the counter in SQL, so concurrent writers cannot lose an increment.
        // --force (resetFailures) followed by a failure counts that failure: 0 + 1.
        let failures: number | Knex.Raw;
        if (status === 'succeeded') failures = 0;
        else if (status === 'failed') failures = detail.resetFailures ? 1 : this.knex.raw('failures + 1');
        else failures = detail.resetFailures ? 0 : this.knex.raw('failures');
        const changed = await this.knex(T.instances)
          .where({ job, business_date: businessDate })
          .update({
            status,
            failures,
            outcome: detail.outcome ?? null,
            last_error: detail.error ?? null,
            updated_at: Date.now(),
          });
        if (changed === 0) {
          // The kind is unknown here, so the row cannot be created; acquireLease creates it.
          throw new StateError(`state: no instance ${job} ${businessDate}; it is created when a run takes its lease`);
        }
      }),
    );
  }

  async startAttempt(job: string, businessDate: string, runId: string, forced: boolean): Promise<AttemptRecord> {
    return this.op(`start attempt of ${job} ${businessDate}`, () =>
      this.write(async () => {
        const rows = (await this.knex(T.attempts)
          .insert({
            job,
            business_date: businessDate,
            run_id: runId,
            status: 'running' satisfies AttemptStatus,
            outcome: null,
            error: null,
            forced,
            started_at: Date.now(),
            finished_at: null,
          })
          .returning('*')) as Row[];
        return toAttempt(one(rows));
      }),
    );
  }

  async finishAttempt(
    attemptId: number,
    status: Exclude<AttemptStatus, 'running'>,
    detail: { outcome?: string | null; error?: string | null } = {},
  ): Promise<void> {
    await this.op(`finish attempt ${attemptId}`, () =>
      this.write(async () => {
        const changed = await this.knex(T.attempts)
          .where({ id: attemptId })
          .update({ status, outcome: detail.outcome ?? null, error: detail.error ?? null, finished_at: Date.now() });
        if (changed === 0) throw new StateError(`state: no attempt with id ${attemptId}`);
      }),
    );
  }

  async recordFile(file: NewFile): Promise<FileRecord> {
    return this.op(`record file ${file.name}`, () =>
      this.write(async () => {
        const rows = (await this.knex(T.files)
          .insert({
            attempt_id: file.attemptId,
            job: file.job,
            business_date: file.businessDate,
            name: file.name,
            archive_path: file.archivePath,
            size: file.size,
            rows: file.rows,
            sha256: file.sha256,
            seq: file.seq,
            created_at: Date.now(),
          })
          .returning('*')) as Row[];
        return toFile(one(rows));
      }),
    );
  }

  async latestFile(job: string, businessDate: string): Promise<FileRecord | undefined> {
    return this.op(`read latest file of ${job} ${businessDate}`, async () => {
      const row = await this.knex(T.files).where({ job, business_date: businessDate }).orderBy('id', 'desc').first();
      return row ? toFile(row as Row) : undefined;
    });
  }

  async recordDelivery(delivery: NewDelivery): Promise<DeliveryRecord> {
    return this.op(`record delivery of file ${delivery.fileId} to ${delivery.connection}`, () =>
      this.write(async () => {
        const rows = (await this.knex(T.deliveries)
          .insert({
            file_id: delivery.fileId,
            attempt_id: delivery.attemptId,
            connection: delivery.connection,
            remote_path: delivery.remotePath,
            status: delivery.status,
            error: delivery.error ?? null,
            resend: delivery.resend ?? false,
            at: Date.now(),
          })
          .returning('*')) as Row[];
        return toDelivery(one(rows));
      }),
    );
  }

  async deliveriesOf(fileId: number): Promise<DeliveryRecord[]> {
    return this.op(`read deliveries of file ${fileId}`, async () => {
      const rows = (await this.knex(T.deliveries).where({ file_id: fileId }).orderBy('id', 'asc')) as Row[];
      return rows.map(toDelivery);
    });
  }

  async maxSeq(job: string, businessDate: string): Promise<number> {
    return this.op(`read max seq of ${job} ${businessDate}`, async () => {
      const row = (await this.knex(T.files)
        .where({ job, business_date: businessDate })
        .max({ m: 'seq' })
        .first()) as { m: unknown } | undefined;
      return row?.m == null ? 0 : toNumber(row.m);
    });
  }

  async listInstances(filter: InstanceFilter = {}): Promise<InstanceRecord[]> {
    return this.op('list instances', async () => {
      const q = this.knex(T.instances);
      if (filter.job !== undefined) q.where('job', filter.job);
      if (filter.since !== undefined) q.where('business_date', '>=', filter.since);
      q.orderBy([
        { column: 'business_date', order: 'desc' },
        { column: 'job', order: 'asc' },
      ]);
      if (filter.limit !== undefined) q.limit(filter.limit);
      return ((await q) as Row[]).map(toInstance);
    });
  }

  async history(
    job: string,
    limit: number,
  ): Promise<Array<AttemptRecord & { files: Array<FileRecord & { deliveries: DeliveryRecord[] }>; received: InboxRecord[] }>> {
    return this.op(`read history of ${job}`, async () => {
      if (limit <= 0) return [];
      // Three queries (attempts, their files, those files' deliveries) stitched in memory,
      // instead of one query per attempt and per file. Newest first by id: ids follow insertion
      // order on every host, while started_at depends on each host's clock.
      const attempts = ((await this.knex(T.attempts).where({ job }).orderBy('id', 'desc').limit(limit)) as Row[]).map(
        toAttempt,
      );
      if (attempts.length === 0) return [];
      const files = (
        (await this.knex(T.files)
          .whereIn(
            'attempt_id',
            attempts.map((a) => a.id),
          )
          .orderBy('id', 'asc')) as Row[]
      ).map(toFile);
      const deliveries =
        files.length === 0
          ? []
          : (
              (await this.knex(T.deliveries)
                .whereIn(
                  'file_id',
                  files.map((f) => f.id),
                )
                .orderBy('id', 'asc')) as Row[]
            ).map(toDelivery);

      const received = (
        (await this.knex(T.inbox)
          .whereIn(
            'attempt_id',
            attempts.map((a) => a.id),
          )
          .orderBy('id', 'asc')) as Row[]
      ).map(toInbox);
      const receivedByAttempt = groupBy(received, (r) => r.attemptId);
      const deliveriesByFile = groupBy(deliveries, (d) => d.fileId);
      const filesByAttempt = groupBy(
        files.map((f) => ({ ...f, deliveries: deliveriesByFile.get(f.id) ?? [] })),
        (f) => f.attemptId,
      );
      return attempts.map((a) => ({ ...a, files: filesByAttempt.get(a.id) ?? [], received: receivedByAttempt.get(a.id) ?? [] }));
    });
  }

  async recordInboxFile(f: NewInboxFile): Promise<InboxRecord> {
    return this.op(`record received file ${f.name}`, () =>
      this.write(async () => {
        const rows = (await this.knex(T.inbox)
          .insert({
            attempt_id: f.attemptId,
            job: f.job,
            business_date: f.businessDate,
            connection: f.connection,
            remote_path: f.remotePath,
            name: f.name,
            size: f.size,
            mtime: f.mtime,
            sha256: f.sha256,
            status: 'received' satisfies InboxStatus,
            rows: null,
            error: null,
            late: f.late,
            local_path: f.localPath,
            received_at: Date.now(),
            finished_at: null,
          })
          .returning('*')) as Row[];
        return toInbox(one(rows));
      }),
    );
  }

  async updateInboxFile(id: number, u: InboxUpdate): Promise<void> {
    return this.op(`update received file ${id}`, () =>
      this.write(async () => {
        const patch: Record<string, unknown> = { status: u.status, finished_at: Date.now() };
        if (u.rows !== undefined) patch.rows = u.rows;
        if (u.error !== undefined) patch.error = u.error;
        if (u.localPath !== undefined) patch.local_path = u.localPath;
        const n = await this.knex(T.inbox).where({ id }).update(patch);
        if (n === 0) throw new StateError(`state: no received file ${id}`);
      }),
    );
  }

  async inboxBySha(job: string, sha256: string): Promise<InboxRecord[]> {
    return this.op(`read received files of ${job}`, async () =>
      ((await this.knex(T.inbox).where({ job, sha256 }).orderBy('id', 'asc')) as Row[]).map(toInbox),
    );
  }

  async inboxByRemote(job: string, connection: string, remotePath: string, size: number, mtime: number | null): Promise<InboxRecord[]> {
    return this.op(`read received files of ${job}`, async () => {
      const q = this.knex(T.inbox).where({ job, connection, remote_path: remotePath, size });
      if (mtime === null) q.whereNull('mtime');
      else q.where({ mtime });
      return ((await q.orderBy('id', 'asc')) as Row[]).map(toInbox);
    });
  }

  async inboxOf(job: string, businessDate: string): Promise<InboxRecord[]> {
    return this.op(`read received files of ${job} ${businessDate}`, async () =>
      ((await this.knex(T.inbox).where({ job, business_date: businessDate }).orderBy('id', 'asc')) as Row[]).map(toInbox),
    );
  }

  async observe(job: string, connection: string, remotePath: string, size: number, mtime: number | null, now: number): Promise<number> {
    return this.op(`note sighting of ${remotePath}`, () =>
      this.write(async () =>
        this.knex.transaction(async (trx) => {
          const key = { job, connection, remote_path: remotePath };
          const row = (await trx(T.sightings).where(key).first()) as Row | undefined;
          if (row && toNumber(row.size) === size && toNumberOrNull(row.mtime) === mtime) return toNumber(row.first_seen_at);
          if (row) await trx(T.sightings).where(key).update({ size, mtime, first_seen_at: now });
          else await trx(T.sightings).insert({ ...key, size, mtime, first_seen_at: now }).onConflict(['job', 'connection', 'remote_path']).merge(['size', 'mtime', 'first_seen_at']);
          return now;
        }),
      ),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Without destroy() the pool's timers keep the process alive.
    await this.knex.destroy();
  }

  /** Run a write: queued per file on SQLite (see the file comment), directly on PostgreSQL. */
  private write<R>(fn: () => Promise<R>): Promise<R> {
    const t = this.target;
    if (t.dialect === 'sqlite' && t.filename !== ':memory:') return serialize(t.filename, fn);
    return fn();
  }

  /** Turn driver errors into StateError naming the operation; keep ferry's own errors as they are. */
  private async op<R>(what: string, fn: () => Promise<R>): Promise<R> {
    this.assertOpen();
    try {
      return await fn();
    } catch (e) {
      if (e instanceof FerryError) throw e;
      throw new StateError(`state: ${what} failed`, { cause: e });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StateError('state: the state store is closed');
  }
}

/**
 * Knex logs with console.log, i.e. to stdout, where `--json` output goes; send its messages to
 * stderr instead. Connection failures are dropped here because they also reject the query and
 * reach the caller as a StateError.
 */
const knexLog: Knex.Logger = {
  warn(message: string) {
    if (!String(message).startsWith('Acquire connection error')) console.error(`knex: ${message}`);
  },
  error(message: string) {
    console.error(`knex: ${message}`);
  },
  deprecate(method: string, alternative: string) {
    console.error(`knex: ${method} is deprecated, use ${alternative}`);
  },
  debug() {},
};

function createKnex(target: StateTarget): Knex {
  if (target.dialect === 'sqlite') {
    if (target.filename !== ':memory:') fs.mkdirSync(path.dirname(target.filename), { recursive: true });
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename: target.filename },
      // SQLite has no DEFAULT keyword for omitted columns in multi-row inserts; knex warns without this.
      useNullAsDefault: true,
      log: knexLog,
      pool: {
        afterCreate(conn: BetterSqlite3.Database, done: (err: Error | null, conn: BetterSqlite3.Database) => void) {
          try {
            // busy_timeout first: switching a new file to WAL needs a lock another process may hold.
            conn.pragma('busy_timeout = 10000');
            conn.pragma('journal_mode = WAL');
            // WAL's default NORMAL may lose the last commits on power loss; a lease or a delivery
            // record must not vanish, so pay the fsync per commit.
            conn.pragma('synchronous = FULL');
            conn.pragma('foreign_keys = ON');
            done(null, conn);
          } catch (e) {
            done(e as Error, conn);
          }
        },
      },
    });
  }
  return knexFactory({
    client: 'pg',
    connection: { connectionString: target.connectionString, application_name: 'ferry' },
    // Unqualified table names resolve to the configured schema only, never to a same-named table
    // in "$user" or public.
    searchPath: [target.schema],
    pool: { min: 0, max: 4 },
    log: knexLog,
  });
}

function describeTarget(target: StateTarget): string {
  return target.dialect === 'sqlite' ? `'sqlite:${target.filename}'` : `'${target.display}'`;
}

function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttlMs must be a positive number, got ${ttlMs}`);
}

// ---- row mapping -------------------------------------------------------------------------------

type Row = Record<string, unknown>;

/** pg returns bigint as a string; better-sqlite3 returns numbers. Both become numbers here. */
function toNumber(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`state: expected a number in the state store, got ${String(v)}`);
  return n;
}

function toNumberOrNull(v: unknown): number | null {
  return v == null ? null : toNumber(v);
}

function toStringOrNull(v: unknown): string | null {
  return v == null ? null : String(v);
}

/** SQLite stores booleans as 0/1. */
function toBoolean(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 't';
}

function one(rows: Row[]): Row {
  const row = rows[0];
  if (!row) throw new Error('state: the insert returned no row');
  return row;
}

function toInstance(r: Row): InstanceRecord {
  return {
    job: String(r.job),
    businessDate: String(r.business_date),
    kind: String(r.kind) as InstanceRecord['kind'],
    status: String(r.status) as InstanceStatus,
    failures: toNumber(r.failures),
    outcome: toStringOrNull(r.outcome),
    lastError: toStringOrNull(r.last_error),
    leaseOwner: toStringOrNull(r.lease_owner),
    leaseExpiresAt: toNumberOrNull(r.lease_expires_at),
    createdAt: toNumber(r.created_at),
    updatedAt: toNumber(r.updated_at),
  };
}

function toAttempt(r: Row): AttemptRecord {
  return {
    id: toNumber(r.id),
    job: String(r.job),
    businessDate: String(r.business_date),
    runId: String(r.run_id),
    status: String(r.status) as AttemptStatus,
    outcome: toStringOrNull(r.outcome),
    error: toStringOrNull(r.error),
    forced: toBoolean(r.forced),
    startedAt: toNumber(r.started_at),
    finishedAt: toNumberOrNull(r.finished_at),
  };
}

function toFile(r: Row): FileRecord {
  return {
    id: toNumber(r.id),
    attemptId: toNumber(r.attempt_id),
    job: String(r.job),
    businessDate: String(r.business_date),
    name: String(r.name),
    archivePath: String(r.archive_path),
    size: toNumber(r.size),
    rows: toNumber(r.rows),
    sha256: String(r.sha256),
    seq: toNumber(r.seq),
    createdAt: toNumber(r.created_at),
  };
}

function toDelivery(r: Row): DeliveryRecord {
  return {
    id: toNumber(r.id),
    fileId: toNumber(r.file_id),
    attemptId: toNumber(r.attempt_id),
    connection: String(r.connection),
    remotePath: String(r.remote_path),
    status: String(r.status) as DeliveryRecord['status'],
    error: toStringOrNull(r.error),
    resend: toBoolean(r.resend),
    at: toNumber(r.at),
  };
}

function toInbox(r: Row): InboxRecord {
  return {
    id: toNumber(r.id),
    attemptId: toNumber(r.attempt_id),
    job: String(r.job),
    businessDate: String(r.business_date),
    connection: String(r.connection),
    remotePath: String(r.remote_path),
    name: String(r.name),
    size: toNumber(r.size),
    mtime: toNumberOrNull(r.mtime),
    sha256: String(r.sha256),
    status: String(r.status) as InboxStatus,
    rows: toNumberOrNull(r.rows),
    error: toStringOrNull(r.error),
    late: toBoolean(r.late),
    localPath: toStringOrNull(r.local_path),
    receivedAt: toNumber(r.received_at),
    finishedAt: toNumberOrNull(r.finished_at),
  };
}

function groupBy<V, K>(items: V[], key: (v: V) => K): Map<K, V[]> {
  const map = new Map<K, V[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}
