import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closeServer, listenLocal, makeTempDir, removeDir } from './services.ts';

const run = promisify(execFile);

export interface TestCertificate {
  key: string;
  /** Self-signed, for 127.0.0.1: also the CA certificate to trust. */
  cert: string;
}

/** A self-signed P-256 certificate for 127.0.0.1 (openssl). */
export async function makeTestCertificate(): Promise<TestCertificate> {
  const dir = await makeTempDir('cert');
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '2',
    ]);
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  } finally {
    await removeDir(dir);
  }
}

export interface ConnectProxy {
  readonly url: string;
  /** `host:port` of every CONNECT tunnel opened. */
  readonly tunnels: string[];
  /** How many CONNECTs were answered 407 for missing or wrong credentials. */
  readonly refused: number;
  stop(): Promise<void>;
}

export interface ConnectProxyOptions {
  /** Require `Proxy-Authorization: Basic` with these, as corporate proxies do. */
  credentials?: { username: string; password: string };
}

/** A forward proxy that opens CONNECT tunnels (to 127.0.0.1 only) and records them. */
export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  let refused = 0;
  const sockets = new Set<Socket>();
  const wanted = options.credentials && `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    if (wanted && req.headers['proxy-authorization'] !== wanted) {
      refused += 1;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test-proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    tunnels.push(target);
    const [host, port] = target.split(':');
    if (host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  const url = await listenLocal(server);
  return {
    url,
    tunnels,
    get refused() {
      return refused;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}
