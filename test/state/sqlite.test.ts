/**
 * The state store contract on SQLite files in a temporary folder, plus what only SQLite has:
 * file creation, WAL, and several processes racing for a lease on one file.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { StateError, describeError } from '../../src/errors.js';
import { openStateStore } from '../../src/state/index.js';
import { defineStateStoreSuite } from './store-suite.js';

let tmp = '';
let counter = 0;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-state-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

defineStateStoreSuite('SQLite', {
  async fresh() {
    const rel = `db-${++counter}/state.sqlite`;
    const file = path.join(tmp, rel);
    return {
      open: () => openStateStore(`sqlite:${rel}`, tmp),
      async migrationVersions() {
        const db = new Database(file, { readonly: true });
        try {
          const rows = db.prepare('select version from ferry_migrations where version > 0 order by version').all() as Array<{
            version: number;
          }>;
          return rows.map((r) => r.version);
        } finally {
          db.close();
        }
      },
      async dispose() {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
      },
    };
  },
});

describe('SQLite state store specifics', () => {
  it('creates missing parent folders and switches the file to WAL', async () => {
    const store = await openStateStore('sqlite:nested/deeper/ferry.sqlite', tmp);
    await store.close();
    const file = path.join(tmp, 'nested/deeper/ferry.sqlite');
    assert.ok(fs.existsSync(file));
    const db = new Database(file, { readonly: true });
    try {
      // journal_mode=WAL is stored in the file, so a second connection sees it.
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('accepts an absolute path', async () => {
    const file = path.join(tmp, 'absolute.sqlite');
    const store = await openStateStore(`sqlite:${file}`, path.join(tmp, 'elsewhere'));
    await store.close();
    assert.ok(fs.existsSync(file));
  });

  it('works in memory', async () => {
    const store = await openStateStore('sqlite::memory:', tmp);
    try {
      assert.ok(await store.acquireLease({ job: 'j', businessDate: '2026-01-01', kind: 'import', owner: 'o', ttlMs: 10 }));
    } finally {
      await store.close();
    }
  });

  it('reports a file that cannot be created as a StateError', async () => {
    const blocker = path.join(tmp, 'not-a-folder');
    fs.writeFileSync(blocker, 'x');
    const err = await openStateStore('sqlite:not-a-folder/state.sqlite', tmp).then(
      () => assert.fail('expected a StateError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StateError);
    assert.match(describeError(err), /cannot open state store/);
  });

  it('3 processes racing for one lease on one fresh file: exactly one wins', async () => {
    const file = path.join(tmp, 'race/processes.sqlite');
    const moduleUrl = new URL('../../src/state/index.js', import.meta.url).href;
    // Each child opens (and so migrates) the same fresh file, waits for a common start time so
    // the acquisitions overlap, then tries 5 owners at once and prints which ones won.
    const child = `
      const [moduleUrl, url, name, startAt] = process.argv.slice(1);
      const { openStateStore } = await import(moduleUrl);
      const store = await openStateStore(url, '.');
      try {
        const wait = Number(startAt) - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const owners = [0, 1, 2, 3, 4].map((i) => name + '-' + i);
        const got = await Promise.all(owners.map((owner) =>
          store.acquireLease({ job: 'race', businessDate: '2026-11-20', kind: 'export', owner, ttlMs: 60000 })));
        process.stdout.write(JSON.stringify(got.filter(Boolean).map((g) => g.leaseOwner)));
      } finally {
        await store.close();
      }
    `;
    const run = promisify(execFile);
    const startAt = String(Date.now() + 1500);
    const outputs = await Promise.all(
      ['p1', 'p2', 'p3'].map((name) =>
        run(process.execPath, ['--input-type=module', '-e', child, moduleUrl, `sqlite:${file}`, name, startAt], {
          timeout: 60_000,
        }),
      ),
    );
    const winners = outputs.flatMap((o) => JSON.parse(o.stdout) as string[]);
    assert.equal(winners.length, 1, `winners: ${winners.join(', ')}`);

    const check = await openStateStore(`sqlite:${file}`, tmp);
    try {
      assert.equal((await check.getInstance('race', '2026-11-20'))?.leaseOwner, winners[0]);
    } finally {
      await check.close();
    }
  });
});
