// Unit tests of the named-parameter scanner: placeholders become driver placeholders only in
// SQL code, never inside strings, identifiers, comments, dollar quotes or `::casts`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindNamed, inlineNamed } from '../../src/database/params.js';
import { ConfigError } from '../../src/errors.js';

const P = { date: '2024-03-10', from: '2024-03-10 00:00:00', to: '2024-03-11 00:00:00' };

test('pg: $n placeholders, repeated names reuse their number', () => {
  const r = bindNamed('select * from t where d = :date and ts >= :from and ts < :to or d2 = :date', P, 'pg');
  assert.equal(r.sql, 'select * from t where d = $1 and ts >= $2 and ts < $3 or d2 = $1');
  assert.deepEqual(r.values, [P.date, P.from, P.to]);
});

test('sqlite and mysql: ? placeholders, repeated names repeat the value', () => {
  for (const dialect of ['sqlite', 'mysql'] as const) {
    const r = bindNamed('select :date, :from, :date', P, dialect);
    assert.equal(r.sql, 'select ?, ?, ?');
    assert.deepEqual(r.values, [P.date, P.from, P.date]);
  }
});

test('casts are not parameters', () => {
  const r = bindNamed("select :date::date, x::text, :to ::timestamptz, '1'::int", P, 'pg');
  assert.equal(r.sql, "select $1::date, x::text, $2 ::timestamptz, '1'::int");
  assert.deepEqual(r.values, [P.date, P.to]);
});

test('string literals with doubled quotes are skipped', () => {
  const r = bindNamed("select ':date', 'it''s :from', :to", P, 'sqlite');
  assert.equal(r.sql, "select ':date', 'it''s :from', ?");
  assert.deepEqual(r.values, [P.to]);
});

test('quoted identifiers are skipped', () => {
  assert.equal(bindNamed('select "a:date""b" from t where x = :to', P, 'pg').sql, 'select "a:date""b" from t where x = $1');
  assert.equal(bindNamed('select `a:date` from t where x = :to', P, 'mysql').sql, 'select `a:date` from t where x = ?');
  assert.equal(bindNamed('select [a:date] from t where x = :to', P, 'sqlite').sql, 'select [a:date] from t where x = ?');
});

test('mysql strings: backslash escapes and "…" strings', () => {
  const r = bindNamed(`select 'a\\' :date', "b"" :from", :to`, P, 'mysql');
  assert.equal(r.sql, `select 'a\\' :date', "b"" :from", ?`);
  assert.deepEqual(r.values, [P.to]);
});

test('pg E strings take backslash escapes, standard strings do not', () => {
  assert.equal(bindNamed(`select E'x\\' :date', :to`, P, 'pg').sql, `select E'x\\' :date', $1`);
  // In a standard string the backslash is a plain character: the string ends at the second quote.
  assert.equal(bindNamed(`select 'x\\', :to`, P, 'pg').sql, `select 'x\\', $1`);
});

test('comments are skipped', () => {
  const sql = `select 1 -- where :date\n, /* :from */ :to /* a /* nested :date */ still :from */ , :date`;
  const pg = bindNamed(sql, P, 'pg');
  assert.equal(pg.sql, `select 1 -- where :date\n, /* :from */ $1 /* a /* nested :date */ still :from */ , $2`);
  // MySQL and SQLite block comments do not nest: "still :from" is code there.
  const my = bindNamed(sql, P, 'mysql');
  assert.equal(my.sql, `select 1 -- where :date\n, /* :from */ ? /* a /* nested :date */ still ? */ , ?`);
  assert.equal(bindNamed('select :to # :date\n', P, 'mysql').sql, 'select ? # :date\n');
  // '#' is an operator in PostgreSQL, not a comment.
  assert.equal(bindNamed('select 1 # :to', P, 'pg').sql, 'select 1 # $1');
});

test('pg dollar quotes are skipped, $n and identifiers with $ are not dollar quotes', () => {
  const r = bindNamed('select $$ :date $$, $fn$ it\'s :from $fn$, a$b, :to', P, 'pg');
  assert.equal(r.sql, "select $$ :date $$, $fn$ it's :from $fn$, a$b, $1");
  assert.deepEqual(r.values, [P.to]);
});

test('unknown names are a ConfigError listing the bound names', () => {
  assert.throws(
    () => bindNamed('select :dat, :nope, :dat', P, 'pg'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems, [
        'source.sql: unknown parameter :dat; bound parameters are :date, :from, :to',
        'source.sql: unknown parameter :nope; bound parameters are :date, :from, :to',
      ]);
      return true;
    },
  );
  // Unknown names inside strings or comments are no error.
  assert.doesNotThrow(() => bindNamed("select ':nope' -- :nope", P, 'pg'));
});

test('a colon not followed by a name is left alone', () => {
  assert.equal(bindNamed('select a := 1, :1, : x, :date', P, 'pg').sql, 'select a := 1, :1, : x, $1');
});

test('inlineNamed writes literals', () => {
  const params = { s: "it's", n: 42, neg: -5, f: 1.5, t: true, no: false, nul: null, bs: 'a\\b' };
  assert.equal(
    inlineNamed('select :s, :n, a -:neg, :f, :t, :no, :nul, :bs, :s::text, \':s\'', params, 'pg'),
    "select 'it''s', 42, a -(-5), 1.5, TRUE, FALSE, NULL, 'a\\b', 'it''s'::text, ':s'",
  );
  assert.equal(inlineNamed('select :bs', params, 'mysql'), "select 'a\\\\b'");
  assert.throws(() => inlineNamed('select :x', { x: 'a\0b' }, 'pg'), ConfigError);
  assert.throws(() => inlineNamed('select :x', { x: Number.NaN }, 'pg'), ConfigError);
  assert.throws(() => inlineNamed('select :y', { x: 1 }, 'pg'), /unknown parameter :y; bound parameters are :x/);
});
