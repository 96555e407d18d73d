import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadProject } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { CONFIG_TS, ORDERS_JOB_TS, tempProject } from '../helpers/project.js';

test('a valid project loads with defaults filled in', async () => {
  const p = tempProject({ 'ferry.config.ts': CONFIG_TS, 'jobs/orders.ts': ORDERS_JOB_TS });
  try {
    const project = await loadProject({ cwd: p.dir });
    assert.equal(project.config.timezone, 'Asia/Seoul');
    assert.equal(project.config.maxAttempts, 5);
    assert.equal(project.config.workDir, p.path('var'));
    assert.equal(String(project.config.state), `sqlite:${p.path('var/ferry.sqlite')}`);
    assert.deepEqual([...project.jobs.keys()], ['orders']);
    assert.equal(project.jobs.get('orders')!.file, 'jobs/orders.ts');
  } finally {
    p.remove();
  }
});

test('every problem in config and jobs is reported at once, each with file and field', async () => {
  const p = tempProject({
    'ferry.config.ts': `import { defineConfig } from 'ferry';
      export default defineConfig({ timezone: 'Mars/Base', connections: { shop: { type: 'database', client: 'oracle', connection: 'x' }, out: { type: 'local' } }, maxAtempts: 3 } as any);`,
    'jobs/orders.ts': `import { defineExport } from 'ferry';
      export default defineExport({
        schedule: '0 6 * *',
        source: { connection: 'nope', sql: '' },
        format: { type: 'csv', delimiter: ';;', columns: ['id', { name: 'amount', type: 'decmal' }, { name: 'x', decimals: -1 }] },
        file: { name: 'orders/{dat:yyyy}.csv', doneFile: '{file}.done' },
        whenEmpty: 'maybe',
        deliver: [{ connection: 'shop', dir: '../up' }],
      } as any);`,
    'jobs/broken.ts': `export default {{;`,
    'jobs/nodefault.ts': `export const x = 1;`,
  });
  try {
    await assert.rejects(loadProject({ cwd: p.dir }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const all = e.problems.join('\n');
      const expect = [
        /^ferry\.config\.ts: timezone: 'Mars\/Base' is not an IANA time zone/m,
        /^ferry\.config\.ts: connections\.shop\.client: 'oracle' is not allowed/m,
        /^ferry\.config\.ts: connections\.out\.root: is required/m,
        /^ferry\.config\.ts: maxAtempts: unknown setting; did you mean 'maxAttempts'\?/m,
        /^jobs\/orders\.ts: schedule: '0 6 \* \*' is not a cron expression of 5 fields/m,
        /^jobs\/orders\.ts: source\.connection: no connection 'nope'/m,
        /^jobs\/orders\.ts: source\.sql: is required/m,
        /^jobs\/orders\.ts: format\.delimiter: ';;' is not a delimiter/m,
        /^jobs\/orders\.ts: format\.columns\[1\]\.type: 'decmal' is not allowed; expected one of string, int, decimal/m,
        /^jobs\/orders\.ts: format\.columns\[2\]\.decimals: expected a whole number/m,
        /^jobs\/orders\.ts: file\.name: unknown placeholder \{dat\}/m,
        /^jobs\/orders\.ts: whenEmpty: 'maybe' is not allowed/m,
        /^jobs\/orders\.ts: deliver\[0\]\.connection: 'shop' is a database/m,
        /^jobs\/orders\.ts: deliver\[0\]\.dir: must not contain '\.\.'/m,
        /^jobs\/broken\.ts:1:17: syntax error: Unexpected token$/m,
        /^jobs\/nodefault\.ts: has no default export/m,
      ];
      for (const re of expect) assert.match(all, re);
      return true;
    });
  } finally {
    p.remove();
  }
});

test('a missing config file is a clear error', async () => {
  const p = tempProject({});
  try {
    await assert.rejects(loadProject({ cwd: p.dir }), /no ferry\.config\.ts in/);
    await assert.rejects(loadProject({ cwd: p.dir, configFile: 'other.ts' }), /--config: other\.ts does not exist/);
  } finally {
    p.remove();
  }
});

test('sftp and ftp connections are checked: login, host key, TLS settings', async () => {
  const p = tempProject({
    'ferry.config.ts': `import { defineConfig, env, file } from 'ferry';
      export default defineConfig({ connections: {
        a: { type: 'sftp', host: 'h', username: 'u' },
        b: { type: 'sftp', host: 'h', port: 70000, username: 'u', password: env('X'), hostKey: 'md5:aa' },
        c: { type: 'sftp', host: 'h', username: 'u', privateKey: file('k'), hostKey: ['SHA256:${'A'.repeat(43)}'] },
        d: { type: 'ftp', host: 'h', user: 'u', secure: 'yes', tlsMaxVersion: 'TLSv1.1' },
        e: { type: 'ftp', user: 'u', password: 'p', secure: false },
      } } as any);`,
  });
  try {
    await assert.rejects(loadProject({ cwd: p.dir }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const all = e.problems.join('\n');
      assert.match(all, /connections\.a: needs a way to log in: password, privateKey or agent/);
      assert.match(all, /connections\.a: needs the server's host key/);
      assert.match(all, /connections\.b\.port: expected a port number/);
      assert.match(all, /connections\.b\.hostKey: 'md5:aa' is not a fingerprint/);
      assert.doesNotMatch(all, /connections\.c/);
      assert.match(all, /connections\.d\.secure: 'yes' is not allowed/);
      assert.match(all, /connections\.d\.tlsMaxVersion/);
      assert.match(all, /connections\.e\.host: is required/);
      return true;
    });
  } finally {
    p.remove();
  }
});

test('a syntax error in a job file names file:line:column and shows the code around it', async () => {
  const p = tempProject({
    'ferry.config.ts': CONFIG_TS,
    'jobs/typo.ts': [
      `import { defineExport } from 'ferry';`,
      `export default defineExport({`,
      `  source: { connection: 'shop', sql: 'select 1' }`,
      `  format: { type: 'csv' },`,
      `});`,
      ``,
    ].join('\n'),
    'jobs/throws.ts': `import { defineExport } from 'ferry';\nconst base = notDefined.value;\nexport default defineExport(base);\n`,
  });
  try {
    await assert.rejects(loadProject({ cwd: p.dir }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const typo = e.problems.find((x) => x.startsWith('jobs/typo.ts'));
      assert.ok(typo, e.problems.join('\n'));
      const [headline, ...frame] = typo.split('\n');
      assert.match(headline!, /^jobs\/typo\.ts:4:3: syntax error: Unexpected token, expected ","$/);
      assert.match(frame.join('\n'), /> 4 \| {3}format: \{ type: 'csv' \},\n\s+\| {3}\^/);
      assert.ok(frame.some((l) => l.includes('3 |   source:')), 'the line before is shown');
      const thrown = e.problems.find((x) => x.startsWith('jobs/throws.ts'));
      assert.match(thrown ?? '', /^jobs\/throws\.ts:2:14: error while loading: notDefined is not defined\n/);
      return true;
    });
  } finally {
    p.remove();
  }
});
