import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

/** A TCP forwarder a test can cut, standing in for a server that goes away (PostgreSQL that must not really be stopped). */
export interface TcpProxy {
  readonly port: number;
  /** Connections accepted since the start (or the last restore), for asserting that clients came back. */
  readonly accepted: number;
  /** Destroys every open connection and stops listening: new connections are refused (ECONNREFUSED), as from a stopped server. */
  cut(): Promise<void>;
  /** Listens again on the same port and forwards as before. */
  restore(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Forwards every connection on a free 127.0.0.1 port to `target` (host and
 * port), byte for byte, until `cut`.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted += 1;
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      open.add(socket);
      // Either side's failure ends both; the client sees its connection cut, as from the real server.
      socket.on('error', () => undefined);
      socket.once('close', () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = async (port: number) => {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  };
  const port = await listen(0);
  const cut = async () => {
    if (!server.listening) return;
    const closed = once(server, 'close');
    server.close();
    for (const socket of open) socket.destroy();
    await closed;
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut,
    restore: async () => {
      accepted = 0;
      await listen(port);
    },
    stop: cut,
  };
}
