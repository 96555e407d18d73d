/**
 * A session is one command's view of a loaded project: its clock, logger, run id, and the
 * connections it opened (state store, databases, transports), each opened once on first use and
 * all closed at the end so the process exits by itself.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DateTime } from 'luxon';
import type { Project } from '../config/load.js';
import { openDatabase } from '../database/index.js';
import type { SourceDatabase } from '../database/types.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { resolveSecret, resolveSecretsIn, isSecretRef } from '../secrets.js';
import { openStateStore } from '../state/index.js';
import type { StateStore } from '../state/types.js';
import { openTransport, type Transport } from '../transports/index.js';
import { noProgress, type ProgressReporter } from './progress.js';

export interface SessionOptions {
  /** The wall clock; tests pin it. */
  now?: () => DateTime;
  /** Progress bars (the CLI passes a terminal renderer when stderr is a terminal). */
  progress?: ProgressReporter;
}

export class Session {
  readonly runId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private statePromise?: Promise<StateStore>;
  private readonly databases = new Map<string, Promise<SourceDatabase>>();
  private readonly transports = new Map<string, Promise<Transport>>();
  private readonly clock: () => DateTime;

  constructor(
    readonly project: Project,
    readonly log: Logger,
    opts: SessionOptions = {},
  ) {
    this.clock = opts.now ?? (() => DateTime.now());
    this.progress = opts.progress ?? noProgress;
  }

  readonly progress: ProgressReporter;

  get timezone(): string {
    return this.project.config.timezone;
  }

  /** Whether a lease owner id names a process of this host that no longer runs. */
  isDeadLocalRun(owner: string): boolean {
    const m = /^(.*):(\d+):[0-9a-f]+$/.exec(owner);
    if (!m || m[1] !== hostname()) return false;
    const pid = Number(m[2]);
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  now(): DateTime {
    return this.clock().setZone(this.timezone);
  }

  state(): Promise<StateStore> {
    this.statePromise ??= (async () => {
      const url = resolveSecret(this.project.config.state, 'state', this.project.dir);
      const store = await openStateStore(url, this.project.dir);
      await store.migrate();
      return store;
    })();
    return this.statePromise;
  }

  database(name: string): Promise<SourceDatabase> {
    const cached = this.databases.get(name);
    if (cached) return cached;
    {
      const conn = this.project.config.connections[name];
      if (!conn || conn.type !== 'database') throw new ConfigError([`no database connection '${name}' in the config`]);
      const where = `connections.${name}.connection`;
      const c = conn.connection;
      const resolved =
        typeof c === 'string' || isSecretRef(c)
          ? resolveSecret(c, where, this.project.dir)
          : resolveSecretsIn(c as Record<string, unknown>, where, this.project.dir);
      const p = openDatabase({ name, client: conn.client, connection: resolved, baseDir: this.project.dir });
      this.databases.set(name, p);
      return p;
    }
  }

  transport(name: string): Promise<Transport> {
    const cached = this.transports.get(name);
    if (cached) return cached;
    const conn = this.project.config.connections[name];
    if (!conn) throw new ConfigError([`no connection '${name}' in the config`]);
    // openTransport is async (it imports the sftp/ftp module on demand); the promise is cached so
    // concurrent callers share one transport.
    const p = openTransport(name, conn, { projectDir: this.project.dir, log: this.log.child({ connection: name }) });
    this.transports.set(name, p);
    return p;
  }

  /** Close everything that was opened; errors while closing are logged, not thrown. */
  async close(): Promise<void> {
    const closing: Array<Promise<unknown>> = [];
    for (const p of [...this.databases.values(), ...this.transports.values()]) {
      closing.push(p.then((x) => x.close()).catch((e) => this.log.debug({ err: String(e) }, 'close failed')));
    }
    if (this.statePromise) closing.push(this.statePromise.then((s) => s.close()).catch(() => undefined));
    await Promise.all(closing);
    this.databases.clear();
    this.transports.clear();
    this.statePromise = undefined;
  }
}
