/**
 * Entry point of the state store adapter: turns the `state` setting of ferry.config.ts into an
 * open, migrated `StateStore`. The rest of ferry depends on `./types.js` only.
 */

import path from 'node:path';
import { ConfigError } from '../errors.js';
import { KnexStateStore, type StateTarget } from './knex-store.js';
import type { StateStore } from './types.js';

export type { StateTarget } from './knex-store.js';

/**
 * Open the state store named by `url` and apply pending migrations.
 *
 * - `sqlite:<path>`: a SQLite file; a relative path is resolved against `baseDir` (the project
 *   folder) and missing parent folders are created. `sqlite::memory:` is a private in-memory
 *   database (tests only: it is gone when the store closes).
 * - `postgres://…` or `postgresql://…`: a PostgreSQL database; add `?schema=name` to keep the
 *   ferry_* tables in a schema other than `public` (created when missing).
 *
 * Close the store with `close()` when done, or the connection pool keeps the process alive.
 * Lease times come from each host's clock, so hosts sharing a PostgreSQL store need NTP.
 *
 * @throws ConfigError when the URL is not one of the forms above (the message never shows a
 *   password from the URL).
 * @throws StateError when the database cannot be opened or migrated.
 */
export async function openStateStore(url: string, baseDir: string): Promise<StateStore> {
  return KnexStateStore.open(parseStateUrl(url, baseDir));
}

/**
 * Parse a state store URL without connecting (see `openStateStore` for the accepted forms).
 * @throws ConfigError for an unsupported or malformed URL.
 */
export function parseStateUrl(url: string, baseDir: string): StateTarget {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file === '') {
      throw new ConfigError(["state: 'sqlite:' needs a file path, e.g. 'sqlite:var/ferry.sqlite'"]);
    }
    if (file === ':memory:') return { dialect: 'sqlite', filename: ':memory:' };
    return { dialect: 'sqlite', filename: path.resolve(baseDir, file) };
  }

  if (/^postgres(ql)?:\/\//i.test(url)) {
    const display = redactUrl(url);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError([`state: cannot parse the PostgreSQL URL '${display}'`]);
    }
    const schema = parsed.searchParams.get('schema') ?? 'public';
    // The schema name ends up in `search_path` and DDL; a plain identifier keeps quoting trivial.
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new ConfigError([
        `state: invalid schema '${schema}' in the state store URL; use letters, digits and '_' (not starting with a digit)`,
      ]);
    }
    // `schema` is ferry's parameter, not libpq's: pg would pass unknown parameters on.
    parsed.searchParams.delete('schema');
    return { dialect: 'postgres', connectionString: parsed.toString(), schema, display };
  }

  throw new ConfigError([
    `state: unsupported state store '${redactUrl(url)}'; use 'sqlite:<path>' or 'postgres://…'`,
  ]);
}

/**
 * Mask secrets in a connection URL for messages: the password of `user:password@host` and any
 * `password=` query parameter. Deliberately greedy (up to the last `@`) so that an unescaped `@`
 * or `/` inside a password is still hidden; masking too much is harmless in an error message.
 */
export function redactUrl(url: string): string {
  let out = url.replace(/([?&](?:password|pass|pwd|sslpassword)=)[^&#]*/gi, '$1***');
  const at = out.lastIndexOf('@');
  if (at < 0) return out;
  const schemeEnd = out.indexOf('://');
  const start = schemeEnd >= 0 && schemeEnd < at ? schemeEnd + 3 : 0;
  const colon = out.indexOf(':', start);
  if (colon >= 0 && colon < at) out = `${out.slice(0, colon)}:***${out.slice(at)}`;
  return out;
}
