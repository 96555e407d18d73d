/** Rules for `ferry.config.ts`. */
import { resolve } from 'node:path';
import { isValidZone } from '../core/dates.js';
import { isSecretRef } from '../secrets.js';
import type { ConnectionConfig, FerryConfig } from '../types.js';
import type { ResolvedConfig } from './load.js';
import { describeValue, isPlainObject, oneOf, optionalPositiveInt, optionalString, Problems, unknownKeys } from './validate.js';

const CONFIG_KEYS = ['timezone', 'workDir', 'state', 'connections', 'maxAttempts', 'leaseSeconds', 'retry'] as const;
const CONNECTION_TYPES = ['database', 'local', 'sftp', 'ftp'] as const;
const NETWORK_KEYS = ['type', 'host', 'port', 'connectTimeoutMs', 'idleTimeoutMs', 'atomic'];
const SFTP_KEYS = [...NETWORK_KEYS, 'username', 'password', 'privateKey', 'passphrase', 'agent', 'hostKey', 'knownHosts',
  'insecureSkipHostKeyCheck', 'transfer', 'concurrency', 'chunkSize', 'keepaliveIntervalMs', 'algorithms'];
const FTP_KEYS = [...NETWORK_KEYS, 'user', 'password', 'secure', 'ca', 'servername', 'allowSeparateTransferHost', 'tlsMaxVersion'];
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
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
        } else if (type === 'sftp' || type === 'ftp') {
          validateNetwork(p, f, c, type);
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

function secretLike(p: Problems, field: string, v: unknown, required: boolean): void {
  if (v === undefined) {
    if (required) p.add(field, 'is required');
    return;
  }
  if (!(typeof v === 'string' || isSecretRef(v))) p.add(field, `expected text, env('…') or file('…'), got ${describeValue(v)}`);
}

function optionalBool(p: Problems, field: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') p.add(field, 'expected true or false');
}

function validateNetwork(p: Problems, f: string, c: Record<string, unknown>, type: 'sftp' | 'ftp'): void {
  unknownKeys(p, f, c, type === 'sftp' ? SFTP_KEYS : FTP_KEYS);
  if (typeof c.host !== 'string' || c.host === '') p.add(`${f}.host`, 'is required');
  if (c.port !== undefined && !(Number.isInteger(c.port) && (c.port as number) > 0 && (c.port as number) < 65536)) {
    p.add(`${f}.port`, `expected a port number, got ${describeValue(c.port)}`);
  }
  optionalPositiveInt(p, `${f}.connectTimeoutMs`, c.connectTimeoutMs);
  optionalPositiveInt(p, `${f}.idleTimeoutMs`, c.idleTimeoutMs);
  optionalBool(p, `${f}.atomic`, c.atomic);
  if (type === 'sftp') {
    secretLike(p, `${f}.username`, c.username, true);
    secretLike(p, `${f}.password`, c.password, false);
    secretLike(p, `${f}.privateKey`, c.privateKey, false);
    secretLike(p, `${f}.passphrase`, c.passphrase, false);
    if (c.agent !== undefined && c.agent !== true && typeof c.agent !== 'string') p.add(`${f}.agent`, 'expected a socket path or true ($SSH_AUTH_SOCK)');
    if (c.password === undefined && c.privateKey === undefined && c.agent === undefined) {
      p.add(f, 'needs a way to log in: password, privateKey or agent');
    }
    const keys = c.hostKey === undefined ? [] : Array.isArray(c.hostKey) ? c.hostKey : [c.hostKey];
    keys.forEach((k: unknown, i) => {
      if (typeof k !== 'string' || !FINGERPRINT.test(k)) {
        p.add(`${f}.hostKey${Array.isArray(c.hostKey) ? `[${i}]` : ''}`, `${describeValue(k)} is not a fingerprint as 'ssh-keygen -lf' prints it ('SHA256:' and 43 base64 characters)`);
      }
    });
    optionalString(p, `${f}.knownHosts`, c.knownHosts);
    optionalBool(p, `${f}.insecureSkipHostKeyCheck`, c.insecureSkipHostKeyCheck);
    if (keys.length === 0 && c.knownHosts === undefined && c.insecureSkipHostKeyCheck !== true) {
      p.add(f, "needs the server's host key: hostKey: 'SHA256:…' (`ferry check` prints it) or knownHosts: 'path'");
    }
    oneOf(p, `${f}.transfer`, c.transfer, ['fast', 'stream'] as const);
    optionalPositiveInt(p, `${f}.concurrency`, c.concurrency);
    optionalPositiveInt(p, `${f}.chunkSize`, c.chunkSize);
    optionalPositiveInt(p, `${f}.keepaliveIntervalMs`, c.keepaliveIntervalMs);
    if (c.algorithms !== undefined && !isPlainObject(c.algorithms)) p.add(`${f}.algorithms`, 'expected an object of ssh2 algorithm lists');
  } else {
    secretLike(p, `${f}.user`, c.user, true);
    secretLike(p, `${f}.password`, c.password, false);
    if (c.secure !== undefined && c.secure !== false && c.secure !== 'explicit' && c.secure !== 'implicit') {
      p.add(`${f}.secure`, `${describeValue(c.secure)} is not allowed; expected false, 'explicit' or 'implicit'`);
    }
    secretLike(p, `${f}.ca`, c.ca, false);
    optionalString(p, `${f}.servername`, c.servername);
    optionalBool(p, `${f}.allowSeparateTransferHost`, c.allowSeparateTransferHost);
    oneOf(p, `${f}.tlsMaxVersion`, c.tlsMaxVersion, ['TLSv1.2', 'TLSv1.3'] as const);
  }
}
