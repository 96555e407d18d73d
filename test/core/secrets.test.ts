import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { env, file } from '../../src/index.js';
import { createLogger, prettyLine } from '../../src/log.js';
import { redact, resolveSecret, resolveSecretsIn } from '../../src/secrets.js';

test('env() and file() resolve when asked, with errors that name what is missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-sec-'));
  try {
    process.env.FERRY_TEST_SECRET_A = 'alpha-secret-value';
    assert.equal(resolveSecret(env('FERRY_TEST_SECRET_A'), 'connections.x.password', dir), 'alpha-secret-value');
    assert.throws(
      () => resolveSecret(env('FERRY_TEST_NOT_SET'), 'connections.x.password', dir),
      (e) => e instanceof ConfigError && e.message === 'connections.x.password: environment variable FERRY_TEST_NOT_SET is not set',
    );
    writeFileSync(join(dir, 'key.pem'), 'PRIVATE-KEY-BODY\n');
    assert.equal(resolveSecret(file('key.pem'), 'k', dir), 'PRIVATE-KEY-BODY\n');
    assert.throws(() => resolveSecret(file('nope.pem'), 'connections.p.privateKey', dir), /connections\.p\.privateKey: file 'nope\.pem' cannot be read \(ENOENT\)/);
    process.env.FERRY_TEST_KEY_PATH = 'key.pem';
    assert.equal(resolveSecret(file(env('FERRY_TEST_KEY_PATH')), 'k', dir), 'PRIVATE-KEY-BODY\n');
    const opts = resolveSecretsIn({ host: 'db', password: env('FERRY_TEST_SECRET_A'), port: 5432 }, 'connections.db.connection', dir);
    assert.deepEqual(opts, { host: 'db', password: 'alpha-secret-value', port: 5432 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resolved secrets and URL passwords are scrubbed from any text', () => {
  process.env.FERRY_TEST_URL = 'postgres://app:p%40ss-word-9@db.example:5432/shop';
  resolveSecret(env('FERRY_TEST_URL'), 'x', '.');
  assert.equal(redact('connect to postgres://app:p%40ss-word-9@db.example:5432/shop failed'), 'connect to [REDACTED] failed');
  assert.equal(redact('password p@ss-word-9 rejected'), 'password [REDACTED] rejected');
  assert.equal(redact('mysql://u:other@h/db'), 'mysql://u:[REDACTED]@h/db');
});

test('the logger scrubs secrets from messages and fields, in JSON and pretty form', () => {
  process.env.FERRY_TEST_SECRET_B = 'bravo-secret-value';
  resolveSecret(env('FERRY_TEST_SECRET_B'), 'x', '.');
  const lines: string[] = [];
  const log = createLogger({ format: 'json', write: (l) => lines.push(l) });
  log.error({ detail: 'auth bravo-secret-value', password: 'plain' }, 'login with bravo-secret-value failed');
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(rec.msg, 'login with [REDACTED] failed');
  assert.equal(rec.detail, 'auth [REDACTED]');
  assert.equal(rec.password, '[REDACTED]');
  const pretty: string[] = [];
  createLogger({ format: 'pretty', write: (l) => pretty.push(l) }).info({ job: 'orders' }, 'sent bravo-secret-value');
  assert.match(pretty[0]!, /^\d\d:\d\d:\d\d INFO {2}sent \[REDACTED\] {2}job=orders\n$/);
  assert.match(prettyLine('{"level":50,"time":0,"msg":"x","n":1}'), /^00:00:00 ERROR x {2}n=1\n$/);
});
