// Placeholder until the sftp adapter lands.
import { ConfigError } from '../errors.js';
import type { SftpConnection } from '../types.js';
import type { TransportContext } from './index.js';
import type { Transport } from './types.js';

export function createSftpTransport(name: string, _conn: SftpConnection, _ctx: TransportContext): Transport {
  throw new ConfigError([`connections.${name}: sftp is not available yet`]);
}
