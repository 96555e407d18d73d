// Placeholder until the ftp adapter lands.
import { ConfigError } from '../errors.js';
import type { FtpConnection } from '../types.js';
import type { TransportContext } from './index.js';
import type { Transport } from './types.js';

export function createFtpTransport(name: string, _conn: FtpConnection, _ctx: TransportContext): Transport {
  throw new ConfigError([`connections.${name}: ftp is not available yet`]);
}
