/** Chooses the transport adapter for a connection. The only place that knows them all. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionConfig } from '../types.js';
import { LocalTransport } from './local.js';
import type { Transport } from './types.js';

export type { RemoteEntry, TransferOptions, Transport, TransportCapabilities } from './types.js';
export { joinPosix } from './local.js';

export interface TransportContext {
  /** Relative paths (known_hosts, key files) resolve against the project folder. */
  projectDir: string;
  log: Logger;
}

/**
 * Create the transport for a connection. Network transports connect on first use.
 *
 * The sftp and ftp modules are imported only when such a connection is opened: ssh2 and
 * basic-ftp together add about 25 MiB of heap and noticeable start-up time to every command,
 * while most runs use a local folder or one kind of remote at most.
 */
export async function openTransport(name: string, conn: ConnectionConfig, ctx: TransportContext): Promise<Transport> {
  switch (conn.type) {
    case 'local':
      return new LocalTransport(name, resolve(ctx.projectDir, conn.root));
    case 'sftp':
      return (await import('./sftp.js')).createSftpTransport(name, conn, ctx);
    case 'ftp':
      return (await import('./ftp.js')).createFtpTransport(name, conn, ctx);
    default:
      throw new ConfigError([`connections.${name}: a ${conn.type} connection cannot send or receive files`]);
  }
}
