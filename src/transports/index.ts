/** Chooses the transport adapter for a connection. The only place that knows them all. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ConnectionConfig } from '../types.js';
import { LocalTransport } from './local.js';
import type { Transport } from './types.js';

export type { RemoteEntry, Transport, TransportCapabilities } from './types.js';
export { joinPosix } from './local.js';

export async function openTransport(name: string, conn: ConnectionConfig, projectDir: string): Promise<Transport> {
  switch (conn.type) {
    case 'local':
      return new LocalTransport(name, resolve(projectDir, conn.root));
    default:
      throw new ConfigError([`connections.${name}: a ${conn.type} connection cannot receive files`]);
  }
}
