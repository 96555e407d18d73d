/**
 * The state store contract, run against each database by sqlite.test.ts and postgres.test.ts.
 * Every test gets a fresh, empty database from the fixture and closes every store it opens, so
 * the tests are independent and node can exit.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { StateError } from '../../src/errors.js';
import type { StateStore } from '../../src/state/types.js';

/** A database shared by the stores a test opens. */
export interface TestDatabase {
  /** Open one more store (own connection pool) on this database; migrates on open. */
  open(): Promise<StateStore>;
  /** Versions recorded in ferry_migrations (ignoring SQLite's baseline row 0), ascending. */
  migrationVersions(): Promise<number[]>;
  /** Remove the database (schema or file). */
  dispose(): Promise<void>;
}

export interface StoreFixture {
  /** A new, empty database. */
  fresh(): Promise<TestDatabase>;
}

const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Run `fn` with `n` stores opened on one fresh database; closes them and disposes the database. */
async function withStores(
  fixture: StoreFixture,
  n: number,
  fn: (stores: StateStore[], db: TestDatabase) => Promise<void>,
): Promise<void> {
  const db = await fixture.fresh();
  const stores: StateStore[] = [];
  try {
    for (let i = 0; i < n; i++) stores.push(await db.open());
    await fn(stores, db);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await db.dispose();
  }
}

function lease(owner: string, extra: { job?: string; date?: string; ttlMs?: number } = {}) {
  return {
    job: extra.job ?? 'orders',
    businessDate: extra.date ?? '2026-11-20',
    kind: 'export' as const,
    owner,
    ttlMs: extra.ttlMs ?? 60_000,
  };
}

/** Declare the whole contract suite for one database. */
export function defineStateStoreSuite(name: string, fixture: StoreFixture): void {
  describe(`state store on ${name}`, () => {
    describe('migrations', () => {
      it('are idempotent when a database is opened again', async () => {
        const db = await fixture.fresh();
        try {
          const first = await db.open();
          await first.acquireLease(lease('run-1'));
          await first.migrate();
          await first.close();
          const second = await db.open();
          try {
            await second.migrate();
            const inst = await second.getInstance('orders', '2026-11-20');
            assert.equal(inst?.leaseOwner, 'run-1', 'data survives reopening');
          } finally {
            await second.close();
          }
          assert.deepEqual(await db.migrationVersions(), [1, 2]);
        } finally {
          await db.dispose();
        }
      });

      it('succeed when several stores open the same fresh database at once', async () => {
        const db = await fixture.fresh();
        const opened = await Promise.allSettled([db.open(), db.open(), db.open()]);
        try {
          for (const r of opened) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
          assert.deepEqual(await db.migrationVersions(), [1, 2]);
        } finally {
          await Promise.all(opened.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
          await db.dispose();
        }
      });
    });

    describe('leases', () => {
      it('first owner wins, a second owner gets undefined, the same owner re-acquires', async () => {
        await withStores(fixture, 2, async ([a, b]) => {
          const before = Date.now();
          const won = await a!.acquireLease(lease('run-a'));
          assert.ok(won);
          assert.equal(won.job, 'orders');
          assert.equal(won.businessDate, '2026-11-20');
          assert.equal(won.kind, 'export');
          assert.equal(won.status, 'pending');
          assert.equal(won.failures, 0);
          assert.equal(won.leaseOwner, 'run-a');
          assert.ok(won.leaseExpiresAt! >= before + 60_000);
          assert.ok(won.createdAt >= before && won.createdAt <= Date.now());

          assert.equal(await b!.acquireLease(lease('run-b')), undefined);
          assert.equal((await b!.getInstance('orders', '2026-11-20'))?.leaseOwner, 'run-a');

          const again = await a!.acquireLease(lease('run-a', { ttlMs: 120_000 }));
          assert.equal(again?.leaseOwner, 'run-a');
          assert.ok(again!.leaseExpiresAt! > won.leaseExpiresAt!);
          assert.equal(again!.createdAt, won.createdAt, 'the instance is not recreated');
        });
      });

      it('an expired lease is taken over and the old owner can no longer renew it', async () => {
        await withStores(fixture, 2, async ([a, b]) => {
          assert.ok(await a!.acquireLease(lease('crashed', { ttlMs: 1 })));
          await sleep(15);
          const taken = await b!.acquireLease(lease('rescuer'));
          assert.equal(taken?.leaseOwner, 'rescuer');
          assert.equal(await a!.renewLease('orders', '2026-11-20', 'crashed', 60_000), false);
          assert.equal(await b!.renewLease('orders', '2026-11-20', 'rescuer', 90_000), true);
          const inst = await a!.getInstance('orders', '2026-11-20');
          assert.equal(inst?.leaseOwner, 'rescuer');
          assert.ok(inst!.leaseExpiresAt! > taken!.leaseExpiresAt!);
        });
      });

      it('release lets another owner acquire; releasing a lease we do not hold changes nothing', async () => {
        await withStores(fixture, 2, async ([a, b]) => {
          assert.ok(await a!.acquireLease(lease('run-a')));
          await b!.releaseLease('orders', '2026-11-20', 'run-b');
          assert.equal(await b!.acquireLease(lease('run-b')), undefined);
          await a!.releaseLease('orders', '2026-11-20', 'run-a');
          const inst = await a!.getInstance('orders', '2026-11-20');
          assert.equal(inst?.leaseOwner, null);
          assert.equal(inst?.leaseExpiresAt, null);
          assert.equal((await b!.acquireLease(lease('run-b')))?.leaseOwner, 'run-b');
        });
      });

      it('leases of different instances are independent', async () => {
        await withStores(fixture, 1, async ([s]) => {
          assert.ok(await s!.acquireLease(lease('x', { date: '2026-11-20' })));
          assert.ok(await s!.acquireLease(lease('y', { date: '2026-11-21' })));
          assert.ok(await s!.acquireLease(lease('z', { job: 'invoices', date: '2026-11-20' })));
        });
      });

      it('20 concurrent acquisitions from 4 stores have exactly one winner', async () => {
        await withStores(fixture, 4, async (stores) => {
          const calls = Array.from({ length: 20 }, (_, i) =>
            stores[i % stores.length]!.acquireLease(lease(`racer-${i}`, { job: 'race' })),
          );
          const results = await Promise.all(calls);
          const winners = results.filter((r) => r !== undefined);
          assert.equal(winners.length, 1);
          const inst = await stores[0]!.getInstance('race', '2026-11-20');
          assert.equal(inst?.leaseOwner, winners[0]!.leaseOwner);
        });
      });

      it('rejects a non-positive ttl', async () => {
        await withStores(fixture, 1, async ([s]) => {
          await assert.rejects(s!.acquireLease(lease('a', { ttlMs: 0 })), RangeError);
        });
      });
    });

    describe('instance status', () => {
      it("counts failures: +1 on 'failed', 0 on 'succeeded' and on resetFailures", async () => {
        await withStores(fixture, 1, async ([s]) => {
          const created = await s!.acquireLease(lease('r'));
          const get = () => s!.getInstance('orders', '2026-11-20');

          await sleep(2);
          await s!.setInstanceStatus('orders', '2026-11-20', 'failed', { outcome: 'failed', error: 'sftp: timeout' });
          let inst = await get();
          assert.equal(inst?.status, 'failed');
          assert.equal(inst?.failures, 1);
          assert.equal(inst?.outcome, 'failed');
          assert.equal(inst?.lastError, 'sftp: timeout');
          assert.ok(inst!.updatedAt > created!.updatedAt, 'updated_at moves');
          assert.equal(inst?.createdAt, created!.createdAt);

          await s!.setInstanceStatus('orders', '2026-11-20', 'failed', { error: 'again' });
          assert.equal((await get())?.failures, 2);

          // --force: the counter starts again, and the forced run's own failure counts once.
          await s!.setInstanceStatus('orders', '2026-11-20', 'failed', { error: 'forced', resetFailures: true });
          assert.equal((await get())?.failures, 1);
          await s!.setInstanceStatus('orders', '2026-11-20', 'pending', { resetFailures: true });
          inst = await get();
          assert.equal(inst?.failures, 0);
          assert.equal(inst?.status, 'pending');
          assert.equal(inst?.lastError, null);

          await s!.setInstanceStatus('orders', '2026-11-20', 'failed', { error: 'x' });
          await s!.setInstanceStatus('orders', '2026-11-20', 'succeeded', { outcome: 'sent' });
          inst = await get();
          assert.equal(inst?.status, 'succeeded');
          assert.equal(inst?.failures, 0);
          assert.equal(inst?.outcome, 'sent');
          assert.equal(inst?.lastError, null);
          assert.equal(inst?.leaseOwner, 'r', 'status changes leave the lease alone');

          await s!.setInstanceStatus('orders', '2026-11-20', 'excluded');
          assert.equal((await get())?.status, 'excluded');
        });
      });

      it('refuses to set the status of an instance that does not exist', async () => {
        await withStores(fixture, 1, async ([s]) => {
          await assert.rejects(s!.setInstanceStatus('nope', '2026-11-20', 'excluded'), StateError);
          assert.equal(await s!.getInstance('nope', '2026-11-20'), undefined);
        });
      });

      it('lists instances filtered by job and date, newest date first then job', async () => {
        await withStores(fixture, 1, async ([s]) => {
          const keys: Array<[string, string]> = [
            ['orders', '2026-11-19'],
            ['invoices', '2026-11-20'],
            ['orders', '2026-11-21'],
            ['orders', '2026-11-20'],
            ['invoices', '2026-11-18'],
            ['accounts', '2026-11-20'],
          ];
          for (const [job, date] of keys) await s!.acquireLease(lease('r', { job, date }));
          const show = (list: Array<{ job: string; businessDate: string }>) =>
            list.map((i) => `${i.businessDate} ${i.job}`);

          assert.deepEqual(show(await s!.listInstances()), [
            '2026-11-21 orders',
            '2026-11-20 accounts',
            '2026-11-20 invoices',
            '2026-11-20 orders',
            '2026-11-19 orders',
            '2026-11-18 invoices',
          ]);
          assert.deepEqual(show(await s!.listInstances({ job: 'orders' })), [
            '2026-11-21 orders',
            '2026-11-20 orders',
            '2026-11-19 orders',
          ]);
          assert.deepEqual(show(await s!.listInstances({ since: '2026-11-20' })), [
            '2026-11-21 orders',
            '2026-11-20 accounts',
            '2026-11-20 invoices',
            '2026-11-20 orders',
          ]);
          assert.deepEqual(show(await s!.listInstances({ job: 'invoices', since: '2026-11-19' })), ['2026-11-20 invoices']);
          assert.deepEqual(show(await s!.listInstances({ limit: 2 })), ['2026-11-21 orders', '2026-11-20 accounts']);
          assert.deepEqual(await s!.listInstances({ job: 'missing' }), []);
        });
      });
    });

    describe('attempts, files and deliveries', () => {
      it('round-trip with exact values, including sizes above 2^32', async () => {
        await withStores(fixture, 2, async ([s, other]) => {
          await s!.acquireLease(lease('run-1'));
          const t0 = Date.now();
          const attempt = await s!.startAttempt('orders', '2026-11-20', 'host:1:abc', true);
          assert.equal(typeof attempt.id, 'number');
          assert.deepEqual({ ...attempt, id: 0, startedAt: 0 }, {
            id: 0,
            job: 'orders',
            businessDate: '2026-11-20',
            runId: 'host:1:abc',
            status: 'running',
            outcome: null,
            error: null,
            forced: true,
            startedAt: 0,
            finishedAt: null,
          });
          assert.ok(attempt.startedAt >= t0 && attempt.startedAt <= Date.now());

          const file = await s!.recordFile({
            attemptId: attempt.id,
            job: 'orders',
            businessDate: '2026-11-20',
            name: 'orders_20261120.csv',
            archivePath: 'var/archive/orders/2026-11-20/orders_20261120.csv',
            size: 5_000_000_000,
            rows: 3_000_000_001,
            sha256: SHA,
            seq: 7,
          });
          assert.equal(typeof file.id, 'number');
          assert.equal(file.size, 5_000_000_000);
          assert.equal(file.rows, 3_000_000_001);
          assert.equal(file.sha256, SHA);
          assert.equal(file.seq, 7);
          assert.equal(file.attemptId, attempt.id);
          assert.ok(file.createdAt >= t0);

          const delivered = await s!.recordDelivery({
            fileId: file.id,
            attemptId: attempt.id,
            connection: 'partnerA',
            remotePath: '/in/orders_20261120.csv',
            status: 'delivered',
          });
          const failed = await s!.recordDelivery({
            fileId: file.id,
            attemptId: attempt.id,
            connection: 'partnerB',
            remotePath: '/upload/orders_20261120.csv',
            status: 'failed',
            error: 'connect ETIMEDOUT',
            resend: true,
          });
          assert.deepEqual({ ...delivered, id: 0, at: 0 }, {
            id: 0,
            fileId: file.id,
            attemptId: attempt.id,
            connection: 'partnerA',
            remotePath: '/in/orders_20261120.csv',
            status: 'delivered',
            error: null,
            resend: false,
            at: 0,
          });
          assert.equal(failed.error, 'connect ETIMEDOUT');
          assert.equal(failed.resend, true);

          await s!.finishAttempt(attempt.id, 'failed', { outcome: 'failed', error: 'partnerB: connect ETIMEDOUT' });

          // Read back through a second store (own connection): what was committed, not a cache.
          assert.deepEqual(await other!.latestFile('orders', '2026-11-20'), file);
          assert.deepEqual(await other!.deliveriesOf(file.id), [delivered, failed]);
          const [h] = await other!.history('orders', 10);
          assert.equal(h?.status, 'failed');
          assert.equal(h?.outcome, 'failed');
          assert.equal(h?.error, 'partnerB: connect ETIMEDOUT');
          assert.ok(h!.finishedAt! >= h!.startedAt);
          assert.deepEqual(h?.files, [{ ...file, deliveries: [delivered, failed] }]);
        });
      });

      it('latestFile is the highest id, maxSeq the highest seq (0 when none)', async () => {
        await withStores(fixture, 1, async ([s]) => {
          assert.equal(await s!.latestFile('orders', '2026-11-20'), undefined);
          assert.equal(await s!.maxSeq('orders', '2026-11-20'), 0);
          const a = await s!.startAttempt('orders', '2026-11-20', 'r', false);
          const base = {
            attemptId: a.id,
            job: 'orders',
            businessDate: '2026-11-20',
            archivePath: 'a',
            size: 1,
            rows: 1,
            sha256: SHA,
          };
          await s!.recordFile({ ...base, name: 'f1', seq: 3 });
          const last = await s!.recordFile({ ...base, name: 'f2', seq: 2 });
          await s!.recordFile({ ...base, businessDate: '2026-11-21', name: 'other-date', seq: 9 });
          assert.equal(await s!.maxSeq('orders', '2026-11-20'), 3);
          assert.equal(await s!.maxSeq('orders', '2026-11-21'), 9);
          assert.equal(await s!.maxSeq('invoices', '2026-11-20'), 0);
          assert.equal((await s!.latestFile('orders', '2026-11-20'))?.name, last.name);
          assert.deepEqual(await s!.deliveriesOf(last.id), []);
        });
      });

      it('history lists attempts newest first with their files and deliveries in id order', async () => {
        await withStores(fixture, 1, async ([s]) => {
          const file = (attemptId: number, name: string) =>
            s!.recordFile({
              attemptId,
              job: 'orders',
              businessDate: '2026-11-20',
              name,
              archivePath: name,
              size: 10,
              rows: 2,
              sha256: SHA,
              seq: 0,
            });
          const deliver = (fileId: number, attemptId: number, connection: string) =>
            s!.recordDelivery({ fileId, attemptId, connection, remotePath: `/in/${fileId}`, status: 'delivered' });

          const a1 = await s!.startAttempt('orders', '2026-11-20', 'r1', false);
          const f1 = await file(a1.id, 'one.csv');
          const d1 = await deliver(f1.id, a1.id, 'p1');
          await s!.finishAttempt(a1.id, 'failed', { error: 'boom' });
          const other = await s!.startAttempt('invoices', '2026-11-20', 'r1', false);
          await file(other.id, 'invoices.csv');
          const a2 = await s!.startAttempt('orders', '2026-11-21', 'r2', false);
          await s!.finishAttempt(a2.id, 'succeeded', { outcome: 'empty-skipped' });
          const a3 = await s!.startAttempt('orders', '2026-11-20', 'r3', true);
          const f3a = await file(a3.id, 'three-a.csv');
          const f3b = await file(a3.id, 'three-b.csv');
          const d3b = await deliver(f3b.id, a3.id, 'p1');
          const d3a = await deliver(f3a.id, a3.id, 'p2');
          const d3b2 = await deliver(f3b.id, a3.id, 'p2');
          // A resend from a later attempt shows under the file it sent.
          const resend = await deliver(f1.id, a3.id, 'p1');
          await s!.finishAttempt(a3.id, 'succeeded', { outcome: 'sent' });

          const h = await s!.history('orders', 10);
          assert.deepEqual(
            h.map((a) => a.id),
            [a3.id, a2.id, a1.id],
          );
          assert.equal(h[0]!.outcome, 'sent');
          assert.equal(h[0]!.forced, true);
          assert.deepEqual(h[0]!.files, [
            { ...f3a, deliveries: [d3a] },
            { ...f3b, deliveries: [d3b, d3b2] },
          ]);
          assert.deepEqual(h[1]!.files, []);
          assert.equal(h[1]!.outcome, 'empty-skipped');
          assert.deepEqual(h[2]!.files, [{ ...f1, deliveries: [d1, resend] }]);
          assert.equal(h[2]!.error, 'boom');

          assert.deepEqual(
            (await s!.history('orders', 2)).map((a) => a.id),
            [a3.id, a2.id],
          );
          assert.deepEqual(await s!.history('orders', 0), []);
          assert.deepEqual(await s!.history('nobody', 5), []);
        });
      });

      it('rejects a file of an unknown attempt (foreign keys are enforced)', async () => {
        await withStores(fixture, 1, async ([s]) => {
          await assert.rejects(
            s!.recordFile({
              attemptId: 424242,
              job: 'orders',
              businessDate: '2026-11-20',
              name: 'x',
              archivePath: 'x',
              size: 1,
              rows: 1,
              sha256: SHA,
              seq: 0,
            }),
            StateError,
          );
          await assert.rejects(s!.finishAttempt(424242, 'succeeded'), StateError);
        });
      });
    });

    describe('inbox and sightings', () => {
      it('records received files, updates them, and finds them by sha256, remote file and instance', async () => {
        await withStores(fixture, 2, async ([s, other]) => {
          await s!.acquireLease({ ...lease('run-1', { job: 'settle' }), kind: 'import' });
          const attempt = await s!.startAttempt('settle', '2026-11-20', 'host:1:abc', false);
          const rec = await s!.recordInboxFile({
            attemptId: attempt.id,
            job: 'settle',
            businessDate: '2026-11-20',
            connection: 'bank',
            remotePath: 'out/settle_20261120.csv',
            name: 'settle_20261120.csv',
            size: 6_000_000_000,
            mtime: 1_795_000_000_123,
            sha256: SHA,
            late: true,
            localPath: 'var/inbox/settle/1-settle_20261120.csv',
          });
          assert.equal(rec.status, 'received');
          assert.equal(rec.size, 6_000_000_000);
          assert.equal(rec.late, true);
          assert.equal(rec.rows, null);
          await s!.updateInboxFile(rec.id, { status: 'ingested', rows: 42, localPath: 'var/archive/settle/2026/11/settle_20261120.csv', error: null });
          const [bySha] = await other!.inboxBySha('settle', SHA);
          assert.equal(bySha!.status, 'ingested');
          assert.equal(bySha!.rows, 42);
          assert.equal(bySha!.localPath, 'var/archive/settle/2026/11/settle_20261120.csv');
          assert.ok(bySha!.finishedAt! >= bySha!.receivedAt);
          assert.equal((await other!.inboxByRemote('settle', 'bank', 'out/settle_20261120.csv', 6_000_000_000, 1_795_000_000_123)).length, 1);
          assert.equal((await other!.inboxByRemote('settle', 'bank', 'out/settle_20261120.csv', 6_000_000_001, 1_795_000_000_123)).length, 0);
          assert.equal((await other!.inboxByRemote('settle', 'bank', 'out/settle_20261120.csv', 6_000_000_000, null)).length, 0);
          assert.deepEqual((await other!.inboxOf('settle', '2026-11-20')).map((r) => r.id), [rec.id]);
          assert.deepEqual(await other!.inboxBySha('other-job', SHA), []);
          const [h] = await other!.history('settle', 5);
          assert.deepEqual(h!.received.map((r) => r.name), ['settle_20261120.csv']);
          await assert.rejects(s!.updateInboxFile(999_999, { status: 'rejected' }), /no received file/);
        });
      });

      it('a sighting keeps its first time while size and mtime stay the same, and restarts when they change', async () => {
        await withStores(fixture, 1, async ([s]) => {
          assert.equal(await s!.observe('settle', 'bank', 'a.csv', 10, 100, 1_000), 1_000);
          assert.equal(await s!.observe('settle', 'bank', 'a.csv', 10, 100, 5_000), 1_000);
          assert.equal(await s!.observe('settle', 'bank', 'a.csv', 11, 100, 6_000), 6_000);
          assert.equal(await s!.observe('settle', 'bank', 'a.csv', 11, 200, 7_000), 7_000);
          assert.equal(await s!.observe('settle', 'bank', 'a.csv', 11, 200, 9_000), 7_000);
          assert.equal(await s!.observe('settle', 'bank', 'b.csv', 11, null, 9_500), 9_500);
          assert.equal(await s!.observe('settle', 'bank', 'b.csv', 11, null, 9_900), 9_500);
        });
      });
    });

    describe('lifecycle', () => {
      it('close is idempotent and a closed store refuses work with a StateError', async () => {
        const db = await fixture.fresh();
        try {
          const s = await db.open();
          await s.close();
          await s.close();
          await assert.rejects(s.getInstance('orders', '2026-11-20'), StateError);
        } finally {
          await db.dispose();
        }
      });
    });
  });
}
