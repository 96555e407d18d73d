/** Parsing the `state` setting, and keeping passwords out of messages. No database needed. */

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, StateError, describeError } from '../../src/errors.js';
import { openStateStore, parseStateUrl, redactUrl } from '../../src/state/index.js';

const base = path.resolve('project');

describe('parseStateUrl', () => {
  it('resolves a relative sqlite path against the base folder', () => {
    assert.deepEqual(parseStateUrl('sqlite:var/ferry.sqlite', base), {
      dialect: 'sqlite',
      filename: path.join(base, 'var/ferry.sqlite'),
    });
    const abs = path.resolve('/', 'srv', 'state.db');
    assert.deepEqual(parseStateUrl(`sqlite:${abs}`, base), { dialect: 'sqlite', filename: abs });
    assert.deepEqual(parseStateUrl('sqlite::memory:', base), { dialect: 'sqlite', filename: ':memory:' });
  });

  it('rejects an empty sqlite path', () => {
    assert.throws(() => parseStateUrl('sqlite:', base), ConfigError);
  });

  it('reads ?schema= off a PostgreSQL URL and defaults to public', () => {
    assert.deepEqual(parseStateUrl('postgres://ferry:s3cret@db.example:5433/ops?schema=ferry_state&sslmode=require', base), {
      dialect: 'postgres',
      connectionString: 'postgres://ferry:s3cret@db.example:5433/ops?sslmode=require',
      schema: 'ferry_state',
      display: 'postgres://ferry:***@db.example:5433/ops?schema=ferry_state&sslmode=require',
    });
    const t = parseStateUrl('postgresql://db.example/ops', base);
    assert.equal(t.dialect === 'postgres' && t.schema, 'public');
  });

  it('rejects a schema that is not a plain identifier, without showing the password', () => {
    assert.throws(
      () => parseStateUrl('postgres://u:hunter2@h/db?schema=a;drop', base),
      (e: unknown) => e instanceof ConfigError && /invalid schema/.test(e.message) && !e.message.includes('hunter2'),
    );
  });

  it('rejects other stores with the supported forms and no password', () => {
    for (const url of ['mysql://root:hunter2@localhost/ferry', 'user:hunter2@host', 'ferry.sqlite', '']) {
      assert.throws(
        () => parseStateUrl(url, base),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          assert.match(e.message, /^state: unsupported state store '.*'; use 'sqlite:<path>' or 'postgres:\/\/…'$/);
          assert.ok(!e.message.includes('hunter2'), e.message);
          return true;
        },
      );
    }
  });
});

describe('redactUrl', () => {
  it('masks user passwords and password parameters', () => {
    assert.equal(redactUrl('postgres://u:p@h/db'), 'postgres://u:***@h/db');
    assert.equal(redactUrl('postgres://u:p@ss/w@rd@h/db'), 'postgres://u:***@h/db');
    assert.equal(redactUrl('postgres://h/db?user=u&password=p&x=1'), 'postgres://h/db?user=u&password=***&x=1');
    assert.equal(redactUrl('postgres://u@h:5432/db'), 'postgres://u@h:5432/db');
    assert.equal(redactUrl('postgres://h:5432/db'), 'postgres://h:5432/db');
  });
});

describe('openStateStore errors', () => {
  it('an unreachable PostgreSQL is a StateError that does not show the password', async () => {
    // Port 1 on loopback refuses at once.
    const err = await openStateStore('postgres://ferry:hunter2@127.0.0.1:1/ferry', base).then(
      () => assert.fail('expected a StateError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StateError);
    const text = describeError(err);
    assert.match(text, /cannot open state store 'postgres:\/\/ferry:\*\*\*@127\.0\.0\.1:1\/ferry'/);
    assert.ok(!text.includes('hunter2'), text);
  });
});
