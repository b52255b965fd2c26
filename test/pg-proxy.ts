import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy to a PostgreSQL server, for the tests of the database going
 * away: `drop()` resets every connection through it (a network that failed),
 * `cut()` also stops accepting (a server that is down) until `restore()`.
 * Node's `net` only, so a test's child process can load it as well.
 */
export interface PgProxy {
  /** The database URL with the proxy's address in place of the server's. */
  url(databaseUrl: string): string;
  drop(): Promise<void>;
  cut(): Promise<void>;
  restore(): Promise<void>;
}

/** Listens on `port` (0: any), forwarding to the server of `serverUrl`. */
export async function startPgProxy(serverUrl: string, port = 0): Promise<PgProxy> {
  const target = new URL(serverUrl);
  const [host, targetPort] = [target.hostname, Number(target.port || 5432)];
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let listening = port;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, host);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('error', () => {});
          socket.on('close', () => sockets.delete(socket));
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
    url: (databaseUrl) => {
      const u = new URL(databaseUrl);
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
  };
}
