import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy to a server the service depends on (PostgreSQL, Redis), for
 * the tests of it going away: `drop()` resets every connection through it (a
 * network that failed), `cut()` also stops accepting (a server that is down)
 * until `restore()`, and `blackHole()` leaves every connection open now
 * without an answer ever again, while new ones go through (a host powered off
 * or an address moved to another host: nothing closes the old connections).
 * Node's `net` only, so a test's child process can load it as well.
 */
export interface TcpProxy {
  /** The server's URL with the proxy's address in place of the server's. */
  url(serverUrl: string): string;
  drop(): Promise<void>;
  cut(): Promise<void>;
  restore(): Promise<void>;
  blackHole(): void;
}

const DEFAULT_PORTS: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379 };

/** Listens on `port` (0: any), forwarding to the server of `serverUrl`. */
export async function startTcpProxy(serverUrl: string, port = 0): Promise<TcpProxy> {
  const target = new URL(serverUrl);
  const [host, targetPort] = [target.hostname, Number(target.port || DEFAULT_PORTS[target.protocol])];
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let server: Server | null = null;
  let listening = port;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, host);
        const pair: [Socket, Socket] = [client, upstream];
        pairs.add(pair);
        for (const socket of pair) {
          sockets.add(socket);
          socket.on('error', () => {});
          socket.on('close', () => {
            sockets.delete(socket);
            pairs.delete(pair);
          });
        }
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen(listening, '127.0.0.1', () => {
        listening = (s.address() as AddressInfo).port;
        resolve();
      });
      server = s;
    });
  const drop = async () => {
    // Reset, as a server that crashed or a network that failed would leave them, and wait until each has closed.
    const closed = [...sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    for (const socket of sockets) socket.resetAndDestroy();
    await Promise.all(closed);
  };
  await listen();
  return {
    url: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(listening);
      return u.toString();
    },
    drop,
    cut: async () => {
      const s = server;
      server = null;
      const closed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
      await drop();
      await closed;
    },
    restore: listen,
    blackHole: () => {
      // Nothing more is passed on either way and nothing is closed: what the client sends waits unread.
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
      pairs.clear();
    },
  };
}
