/**
 * Opening a source database: picks the adapter for the configured client and creates the one
 * knex instance (and pool) it uses. Adapters take raw driver connections from that pool for
 * streaming, because knex's own `.stream()` buffers everything on SQLite and cannot set up a
 * session (time zone, snapshot) on the connection it streams from.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Knex } from 'knex';
import { ConfigError, DatabaseError } from '../errors.js';
import type { DatabaseConnection } from '../types.js';
import type { Dialect, SourceDatabase } from './types.js';
// Type-only: these load nothing at run time (the adapters are imported in openDatabase).
import type { mysqlTypeCast } from './mysql.js';
import type { PG_TYPES } from './pg.js';

export type { BindValue, CsvExportOptions, Dialect, QueryOptions, RowStream, SourceDatabase } from './types.js';
export { bindNamed, inlineNamed } from './params.js';
export { pgCsvUnsupported } from './pg-csv.js';

/** What {@link openDatabase} needs; secrets (`env()`, `file()`) are already resolved. */
export interface OpenDatabaseOptions {
  /** Connection name from the config, used in error messages. */
  name: string;
  client: DatabaseConnection['client'];
  /** URL, SQLite file path, or driver options object. */
  connection: string | Record<string, unknown>;
  /** Folder that a relative SQLite path is resolved against (the project folder). */
  baseDir: string;
}

/** The dialect a configured client name stands for. */
export function dialectOf(client: string): Dialect | undefined {
  switch (client) {
    case 'sqlite':
    case 'better-sqlite3':
      return 'sqlite';
    case 'pg':
    case 'postgres':
    case 'postgresql':
      return 'pg';
    case 'mysql':
    case 'mysql2':
    case 'mariadb':
      return 'mysql';
    default:
      return undefined;
  }
}

/**
 * knex logs pool warnings (with stacks) to the console; every failure also reaches ferry as a
 * thrown error that is reported once, so the log lines would only duplicate it.
 */
const quietLog = { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined };

function sqliteConfig(opts: OpenDatabaseOptions): Knex.Config {
  const c = opts.connection;
  const file = typeof c === 'string' ? c : c['filename'];
  if (typeof file !== 'string' || file === '') {
    throw new ConfigError([`connections.${opts.name}.connection: a SQLite file path or { filename } is required`]);
  }
  const filename = isAbsolute(file) ? file : resolve(opts.baseDir, file);
  // knex passes no `fileMustExist` to better-sqlite3, which would create an empty database and
  // then fail with "no such table"; check the file first for a clear message.
  let isFile = false;
  try {
    isFile = statSync(filename).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) throw new DatabaseError(`database "${opts.name}": SQLite file not found: ${file}`);
  return { client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true, log: quietLog };
}

function pgConfig(opts: OpenDatabaseOptions, types: typeof PG_TYPES): Knex.Config {
  const c = opts.connection;
  const base = typeof c === 'string' ? { connectionString: c } : { ...c };
  return {
    client: 'pg',
    // Per-connection parsers: the global pg.types would change pg for the whole process.
    connection: { application_name: 'ferry', ...base, types } as Knex.PgConnectionConfig,
    pool: { min: 0, max: 4 },
    log: quietLog,
  };
}

function mysqlConfig(opts: OpenDatabaseOptions, typeCast: typeof mysqlTypeCast): Knex.Config {
  const c = opts.connection;
  const base = typeof c === 'string' ? { uri: c } : { ...c };
  return {
    client: 'mysql2',
    connection: {
      ...base,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      jsonStrings: true,
      typeCast,
    } as unknown as Knex.MySql2ConnectionConfig,
    pool: { min: 0, max: 4 },
    log: quietLog,
  };
}

/**
 * Open a source database. Nothing connects yet except for SQLite's file check; the first query
 * (or `ping()`) connects and reports connection problems as {@link DatabaseError}.
 * Always `close()` it: the pool keeps the process alive until then.
 *
 * knex and the adapter modules (with their drivers, pg-query-stream and pg-copy-streams) are
 * imported here, on first use, rather than at the top: each costs several MiB of heap and tens
 * of milliseconds of start-up, and a command uses at most the dialects its jobs name (often
 * none, e.g. `list`). Config errors are still reported before anything is loaded.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<SourceDatabase> {
  const dialect = dialectOf(opts.client);
  let config: Knex.Config;
  let Adapter: new (name: string, knex: Knex) => SourceDatabase;
  switch (dialect) {
    case 'sqlite':
      config = sqliteConfig(opts);
      Adapter = (await import('./sqlite.js')).SqliteDatabase;
      break;
    case 'pg': {
      const pg = await import('./pg.js');
      config = pgConfig(opts, pg.PG_TYPES);
      Adapter = pg.PgDatabase;
      break;
    }
    case 'mysql': {
      const mysql = await import('./mysql.js');
      config = mysqlConfig(opts, mysql.mysqlTypeCast);
      Adapter = mysql.MysqlDatabase;
      break;
    }
    default:
      throw new ConfigError([`connections.${opts.name}.client: unknown database client ${JSON.stringify(opts.client)}`]);
  }
  const { default: knexFactory } = await import('knex');
  let knex: Knex;
  try {
    knex = knexFactory(config);
  } catch (e) {
    throw new DatabaseError(`database "${opts.name}": cannot set up the ${dialect} client: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  return new Adapter(opts.name, knex);
}
