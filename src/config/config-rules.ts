/** Rules for `ferry.config.ts`. */
import { resolve } from 'node:path';
import { isValidZone } from '../core/dates.js';
import { isSecretRef } from '../secrets.js';
import type { ConnectionConfig, FerryConfig } from '../types.js';
import type { ResolvedConfig } from './load.js';
import { describeValue, isPlainObject, oneOf, optionalPositiveInt, optionalString, Problems, unknownKeys } from './validate.js';

const CONFIG_KEYS = ['timezone', 'workDir', 'state', 'connections', 'maxAttempts', 'leaseSeconds', 'retry'] as const;
const CONNECTION_TYPES = ['database', 'local'] as const;
const PLANNED_TYPES = ['sftp', 'ftp'];
const DB_CLIENTS = ['sqlite', 'better-sqlite3', 'pg', 'postgres', 'postgresql', 'mysql', 'mysql2', 'mariadb'] as const;
const CONN_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function validateConfig(raw: FerryConfig, p: Problems, dir: string): ResolvedConfig {
  unknownKeys(p, '', raw as unknown as Record<string, unknown>, CONFIG_KEYS);

  let timezone = 'UTC';
  if (raw.timezone !== undefined) {
    if (typeof raw.timezone !== 'string' || !isValidZone(raw.timezone)) {
      p.add('timezone', `${describeValue(raw.timezone)} is not an IANA time zone (e.g. 'Asia/Seoul', 'Europe/Berlin', 'UTC')`);
    } else timezone = raw.timezone;
  }
  const workDirText = optionalString(p, 'workDir', raw.workDir) ?? 'var';
  const workDir = resolve(dir, workDirText);

  let state: ResolvedConfig['state'] = `sqlite:${resolve(workDir, 'ferry.sqlite')}`;
  if (raw.state !== undefined) {
    if (typeof raw.state === 'string') {
      if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(raw.state)) {
        p.add('state', "expected 'sqlite:<path>' or 'postgres://…'");
      } else state = raw.state;
    } else if (isSecretRef(raw.state)) state = raw.state;
    else p.add('state', `expected 'sqlite:<path>', 'postgres://…' or env('…'), got ${describeValue(raw.state)}`);
  }

  const connections: Record<string, ConnectionConfig> = {};
  if (raw.connections !== undefined) {
    if (!isPlainObject(raw.connections)) p.add('connections', `expected an object of named connections, got ${describeValue(raw.connections)}`);
    else {
      for (const [name, c] of Object.entries(raw.connections)) {
        const f = `connections.${name}`;
        if (!CONN_NAME.test(name)) p.add(f, 'connection names use letters, digits, _ and -');
        if (!isPlainObject(c)) {
          p.add(f, `expected an object with a type, got ${describeValue(c)}`);
          continue;
        }
        if (typeof c.type === 'string' && PLANNED_TYPES.includes(c.type)) {
          p.add(`${f}.type`, `'${c.type}' connections are not available in this version; use 'database' or 'local'`);
          continue;
        }
        const type = oneOf(p, `${f}.type`, c.type ?? '', CONNECTION_TYPES);
        if (type === 'database') {
          unknownKeys(p, f, c, ['type', 'client', 'connection']);
          oneOf(p, `${f}.client`, c.client, DB_CLIENTS);
          const conn = c.connection;
          if (conn === undefined) p.add(`${f}.connection`, 'is required (a URL, a SQLite file path, or driver options)');
          else if (!(typeof conn === 'string' || isSecretRef(conn) || isPlainObject(conn))) {
            p.add(`${f}.connection`, `expected a URL, a path, env('…') or an options object, got ${describeValue(conn)}`);
          }
        } else if (type === 'local') {
          unknownKeys(p, f, c, ['type', 'root']);
          if (typeof c.root !== 'string' || c.root === '') p.add(`${f}.root`, 'is required: the folder files are delivered into');
        }
        if (type) connections[name] = c as unknown as ConnectionConfig;
      }
    }
  }

  const maxAttempts = optionalPositiveInt(p, 'maxAttempts', raw.maxAttempts) ?? 5;
  const leaseSeconds = optionalPositiveInt(p, 'leaseSeconds', raw.leaseSeconds) ?? 300;
  const retry = { tries: 3, baseDelayMs: 1000, maxDelayMs: 30_000 };
  if (raw.retry !== undefined) {
    if (!isPlainObject(raw.retry)) p.add('retry', `expected an object, got ${describeValue(raw.retry)}`);
    else {
      unknownKeys(p, 'retry', raw.retry as Record<string, unknown>, ['tries', 'baseDelayMs', 'maxDelayMs']);
      retry.tries = optionalPositiveInt(p, 'retry.tries', raw.retry.tries) ?? retry.tries;
      retry.baseDelayMs = optionalPositiveInt(p, 'retry.baseDelayMs', raw.retry.baseDelayMs) ?? retry.baseDelayMs;
      retry.maxDelayMs = optionalPositiveInt(p, 'retry.maxDelayMs', raw.retry.maxDelayMs) ?? retry.maxDelayMs;
    }
  }
  return { timezone, workDir, state, connections, maxAttempts, leaseSeconds, retry };
}
