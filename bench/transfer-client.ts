/**
 * Child process of the transfer benchmark (bench/transfers.ts): one upload, one download or one
 * describe() through ferry's own SFTP or FTP transport. It runs as its own process so that GNU
 * time measures ferry's elapsed time and peak RSS exactly as it measures OpenSSH's `sftp` and
 * `curl`, process start included.
 *
 *   node dist/bench/transfer-client.js <connection.json> put <local file> <remote path>
 *   node dist/bench/transfer-client.js <connection.json> get <remote path> <local file>
 *   node dist/bench/transfer-client.js <connection.json> describe
 *
 * The connection file is a ferry connection config (`{ type: 'sftp', … }` or `{ type: 'ftp', … }`)
 * written by the bench with mode 0600: credentials travel in a file, never in the process list.
 * Prints one JSON line on stdout (what the transport returned), exits 1 on failure.
 *
 * It loads only the transport it needs, not the CLI: this measures the transfer code. The CLI's
 * own start-up (config, jobs, drivers) is measured by the export part (`ferry list`).
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../src/log.js';
import type { Transport } from '../src/transports/types.js';
import type { FtpConnection, SftpConnection } from '../src/types.js';

const [connFile, op, a, b] = process.argv.slice(2);
if (!connFile || !op || (op !== 'describe' && (!a || !b))) {
  process.stderr.write('usage: transfer-client.js <connection.json> put|get|describe [from to]\n');
  process.exit(2);
}

const conn = JSON.parse(readFileSync(connFile, 'utf8')) as SftpConnection | FtpConnection;
// Warnings only: the plain-FTP warning is expected here, and info lines would only cost time.
const log = createLogger({ format: 'json', level: 'warn' });
const ctx = { projectDir: process.cwd(), log };

// Imported on demand so an SFTP run does not pay for loading basic-ftp, nor FTP for ssh2.
let transport: Transport;
if (conn.type === 'sftp') {
  const { createSftpTransport } = await import('../src/transports/sftp.js');
  transport = createSftpTransport('bench', conn, ctx);
} else {
  const { createFtpTransport } = await import('../src/transports/ftp.js');
  transport = createFtpTransport('bench', conn, ctx);
}

try {
  let result: unknown;
  if (op === 'put') {
    await transport.put(a!, b!);
    result = { ok: true };
  } else if (op === 'get') {
    result = await transport.get(a!, b!);
  } else if (op === 'describe') {
    result = Object.fromEntries(await transport.describe());
  } else {
    throw new Error(`unknown operation ${op}`);
  }
  process.stdout.write(JSON.stringify(result) + '\n');
} catch (e) {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
} finally {
  await transport.close();
}
