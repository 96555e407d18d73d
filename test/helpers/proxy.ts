/**
 * A loopback TCP proxy for failure tests: forwards 127.0.0.1:<port> to a target and can cut
 * connections after N client bytes (a dropped link mid-upload) or stall them (a link that stays
 * open but carries nothing, the case that hangs clients without a watchdog).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Proxy {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Destroy the next connection(s) once this many bytes went from client to server. */
  cutAfterClientBytes(bytes: number, times?: number): void;
  /** Stop forwarding on every open and future connection (sockets stay open). */
  stall(): void;
  /** Forward normally again. */
  heal(): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let cutBytes: number | undefined;
  let cutTimes = 0;
  let stalled = false;
  const pairs: Array<[Socket, Socket]> = [];

  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    pairs.push([client, upstream]);
    const limit = cutTimes > 0 ? cutBytes : undefined;
    if (limit !== undefined) cutTimes--;
    let sent = 0;
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      if (stalled) return;
      sent += d.length;
      if (limit !== undefined && sent >= limit) {
        const keep = d.length - (sent - limit);
        if (keep > 0) upstream.write(d.subarray(0, keep));
        return kill();
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!stalled) client.write(d);
    });
    client.on('error', kill).on('close', () => upstream.destroy());
    upstream.on('error', kill).on('close', () => client.destroy());
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('proxy has no port');

  return {
    port: addr.port,
    get connections() {
      return connections;
    },
    cutAfterClientBytes(bytes, times = 1) {
      cutBytes = bytes;
      cutTimes = times;
    },
    stall() {
      stalled = true;
      for (const [c, u] of pairs) {
        c.pause();
        u.pause();
      }
    },
    heal() {
      stalled = false;
      for (const [c, u] of pairs) {
        c.resume();
        u.resume();
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
