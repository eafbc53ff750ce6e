import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createTestDatabase,
  createTestRedisPrefix,
  pushImage,
  startDistribution,
  TEST_REDIS_URL,
  type Distribution,
  type TestDatabase,
} from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAllInOne, type Started } from './processes.ts';

const run = promisify(execFile);
const ADMIN = 'end-to-end-admin-token-0123456789abcdef';

let upstream: Distribution;
let db: TestDatabase;
let dataDir: string;
let cistern: Started;
let api: string;
let registryHost: string;
const redis = createTestRedisPrefix();

beforeAll(async () => {
  upstream = await startDistribution();
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'cistern-e2e-'));
  const started = await startAllInOne({
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    CISTERN_ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: 'warn',
  });
  cistern = started.cistern;
  api = `${started.api}/api/v1`;
  registryHost = new URL(started.registry).host;
});
afterAll(async () => {
  cistern.child.kill('SIGTERM');
  await cistern.exited;
  await upstream.stop();
  await redis.cleanup();
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: { id: string; state: string; task: { id: string; state: string }; [field: string]: unknown };
}

async function call(method: string, url: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${api}${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

describe('the whole mirror, as a user drives it', () => {
  it('remote → repository → distribution → sync through the API; the worker mirrors; skopeo pulls the same digest', async () => {
    const image = await pushImage(upstream, 'team/app', '1.0');
    const remote = await call('POST', '/remotes', { name: 'local', url: upstream.url, upstreamName: 'team/app' });
    expect(remote.status).toBe(201);
    const repo = await call('POST', '/repositories', { name: 'app', remote: remote.body.id });
    expect(repo.status).toBe(201);
    const dist = await call('POST', '/distributions', { name: 'app', basePath: 'mirror/app', repository: repo.body.id });
    expect(dist.status).toBe(201);
    const sync = await call('POST', `/repositories/${repo.body.id}/sync`, { mirror: true });
    expect(sync.status).toBe(202);

    let task: { id: string; state: string } = sync.body.task;
    for (let i = 0; i < 300 && !['completed', 'failed', 'canceled'].includes(task.state); i++) {
      await new Promise((r) => setTimeout(r, 100));
      task = (await call('GET', `/tasks/${task.id}`)).body;
    }
    expect(task).toMatchObject({ state: 'completed', createdResources: [`/api/v1/repositories/${repo.body.id}/versions/1`] });

    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registryHost}/mirror/app:1.0`]);
    expect(stdout).toBe(image.bytes.toString());
    const { stdout: tags } = await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${registryHost}/mirror/app`]);
    expect((JSON.parse(tags) as { Tags: string[] }).Tags).toEqual(['1.0']);
  }, 90_000);
});
