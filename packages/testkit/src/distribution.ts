import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort } from './ports.ts';
import { makeTempDir, removeDir, spawnService, waitForHttp } from './services.ts';
import { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.ts';

export type DistributionAuth = 'none' | 'htpasswd' | 'token';

export interface DistributionOptions {
  auth?: DistributionAuth;
  /** The user of htpasswd and token modes; defaults `tester` / `secret-pw`. */
  username?: string;
  password?: string;
  /** Options of the token server that token mode starts. */
  token?: Omit<TokenServerOptions, 'users'>;
  /** Runs as a pull-through proxy of this registry URL (`proxy: {remoteurl}`), which refuses pushes. */
  proxyOf?: string;
}

/** What the push helpers need: a base URL and a way to authorize writes to a repository. */
export interface PushTarget {
  readonly url: string;
  authorization(repository: string): Promise<string | undefined>;
}

export interface Distribution extends PushTarget {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>`, for skopeo references. */
  readonly host: string;
  readonly auth: DistributionAuth;
  readonly username: string;
  readonly password: string;
  readonly storageDir: string;
  /** The token realm in token mode. */
  readonly tokenServer: TokenServer | undefined;
  stop(): Promise<void>;
}

/** Starts CNCF Distribution 2.8.2 (`docker-registry`) on a free port with a temp storage dir, as a registry or (`proxyOf`) a proxy. */
export async function startDistribution(options: DistributionOptions = {}): Promise<Distribution> {
  const auth = options.auth ?? 'none';
  const username = options.username ?? 'tester';
  const password = options.password ?? 'secret-pw';
  const dir = await makeTempDir('distribution');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let tokenServer: TokenServer | undefined;
  const config: Record<string, unknown> = {
    version: '0.1',
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: { addr: host, secret: 'cistern-test' },
    ...(options.proxyOf === undefined ? {} : { proxy: { remoteurl: options.proxyOf } }),
  };
  if (auth === 'htpasswd') {
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, `${username}:${bcrypt.hashSync(password, 4)}\n`);
    config.auth = { htpasswd: { realm: 'cistern-test', path: htpasswd } };
  } else if (auth === 'token') {
    tokenServer = await startTokenServer({ ...options.token, users: { [username]: password } });
    config.auth = {
      token: {
        realm: tokenServer.realm,
        service: tokenServer.service,
        issuer: tokenServer.issuer,
        rootcertbundle: tokenServer.certPath,
      },
    };
  }
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, JSON.stringify(config)); // YAML is a superset of JSON
  const service = spawnService('docker-registry', ['serve', configPath], dir);
  const url = `http://${host}`;
  try {
    await waitForHttp(`${url}/v2/`, service);
  } catch (error) {
    await service.stop();
    await tokenServer?.stop();
    await removeDir(dir);
    throw error;
  }
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return {
    url,
    host,
    auth,
    username,
    password,
    storageDir: join(dir, 'data'),
    tokenServer,
    async authorization(repository) {
      if (auth === 'htpasswd') return basic;
      if (tokenServer) return `Bearer ${await tokenServer.mint([{ name: repository, actions: ['pull', 'push'] }])}`;
      return undefined;
    },
    async stop() {
      await service.stop();
      await tokenServer?.stop();
      await removeDir(dir);
    },
  };
}
