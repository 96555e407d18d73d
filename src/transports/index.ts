/** Chooses the transport adapter for a connection. The only place that knows them all. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionConfig } from '../types.js';
import { createFtpTransport } from './ftp.js';
import { LocalTransport } from './local.js';
import { createSftpTransport } from './sftp.js';
import type { Transport } from './types.js';

export type { RemoteEntry, TransferOptions, Transport, TransportCapabilities } from './types.js';
export { joinPosix } from './local.js';

export interface TransportContext {
  /** Relative paths (known_hosts, key files) resolve against the project folder. */
  projectDir: string;
  log: Logger;
}

/** Create the transport for a connection. Network transports connect on first use. */
export function openTransport(name: string, conn: ConnectionConfig, ctx: TransportContext): Transport {
  switch (conn.type) {
    case 'local':
      return new LocalTransport(name, resolve(ctx.projectDir, conn.root));
    case 'sftp':
      return createSftpTransport(name, conn, ctx);
    case 'ftp':
      return createFtpTransport(name, conn, ctx);
    default:
      throw new ConfigError([`connections.${name}: a ${conn.type} connection cannot send or receive files`]);
  }
}
