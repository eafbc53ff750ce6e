import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildAndPush, startDistribution, type Distribution } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUserCistern, type UserCistern } from './processes.ts';

const run = promisify(execFile);

let upstream: Distribution;
let cistern: UserCistern;
let registryHost: string;

beforeAll(async () => {
  upstream = await startDistribution();
  await buildAndPush(upstream, 'team/app', '1.0');
  cistern = await startUserCistern({ PULL_THROUGH_FLUSH_MS: '200' });
  registryHost = cistern.registryHost;
}, 120_000);

afterAll(async () => {
  await cistern?.stop();
  await upstream?.stop();
});

const call = (method: string, url: string, body?: unknown) => cistern.call(method, url, body);

function podman(home: string, ...args: string[]) {
  return run('podman', ['--storage-driver', 'vfs', '--root', path.join(home, 'root'), '--runroot', path.join(home, 'run'), ...args], {
    env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: home },
    maxBuffer: 64 * 1024 * 1024,
  });
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('a pull-through cache, as a user drives it', () => {
  it('remote of many repositories → private pull-through distribution → prefix token; podman pulls; the cache is a repository a sync can refresh, and it still pulls with the upstream stopped', async () => {
    const remote = await call('POST', '/remotes', { name: 'upstream', url: upstream.url, upstreamRepositories: ['team/*'] });
    expect(remote.status).toBe(201);
    expect(remote.body).toMatchObject({ upstreamName: null, upstreamRepositories: ['team/*'] });
    const dist = await call('POST', '/distributions', { name: 'cache', basePath: 'cache', remote: remote.body.id, private: true, tagTtlSeconds: 60 });
    expect(dist.status).toBe(201);
    const token = await call('POST', '/tokens', { name: 'cache-puller', scope: 'pull', basePaths: ['cache/*'] });
    expect(token.status).toBe(201);
    const secret = token.body['secret'] as string;
    // The registry reads distributions anew within a second: until then the name is unknown (404), then it asks for a token (401).
    const challenged = await eventually(
      async () => (await fetch(`http://${registryHost}/v2/cache/team/app/manifests/1.0`)).status,
      (status) => status === 401,
    );
    expect(challenged).toBe(401);
    let pulledDigest: string | undefined;

    const home = await mkdtemp(path.join(tmpdir(), 'cistern-podman-'));
    try {
      const authfile = path.join(home, 'auth.json');
      const ref = `${registryHost}/cache/team/app:1.0`;
      await expect(podman(home, 'pull', '--tls-verify=false', '--authfile', authfile, ref)).rejects.toThrow();
      await podman(home, 'login', '--tls-verify=false', '--authfile', authfile, '-u', 'ci', '-p', secret, registryHost);
      await podman(home, 'pull', '--tls-verify=false', '--authfile', authfile, ref);
      const { stdout } = await podman(home, 'image', 'inspect', '--format', '{{.Digest}}', ref);
      const upstreamDigest = (
        await fetch(`${upstream.url}/v2/team/app/manifests/1.0`, {
          method: 'HEAD',
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
        })
      ).headers.get('docker-content-digest');
      expect(stdout.trim()).toBe(upstreamDigest);
      pulledDigest = stdout.trim();

      // Outside the remote's upstreamRepositories: refused, naming the rule.
      const denied = await podman(home, 'pull', '--tls-verify=false', '--authfile', authfile, `${registryHost}/cache/other/app:1.0`).then(
        () => '',
        (error: { stderr: string }) => error.stderr,
      );
      expect(denied).toMatch(/denied/i);
    } finally {
      await rm(home, { recursive: true, force: true });
    }

    const listed = await call('GET', `/repositories?name=${encodeURIComponent('cache/team/app')}`);
    const cached = (listed.body['results'] as { id: string; upstreamName: string; remote: string; pullThrough: string }[])[0];
    expect(cached).toMatchObject({ upstreamName: 'team/app', pullThrough: dist.body.id });
    // The batched writer puts the cached tag into a version of its own.
    const repository = await eventually(
      () => call('GET', `/repositories/${cached?.id}`),
      (reply) => (reply.body['latestVersion'] as number) > 0,
    );
    expect(repository.body['latestVersion']).toBeGreaterThan(0);

    // A sync of the cache repository mirrors its upstream repository, named by the repository (its remote names none).
    const sync = await call('POST', `/repositories/${cached?.id}/sync`, { remote: remote.body.id, mirror: false });
    expect(sync.status).toBe(202);
    const task = sync.body['task'] as { id: string };
    const finished = await eventually(
      () => call('GET', `/tasks/${task.id}`),
      (reply) => ['completed', 'failed'].includes(reply.body['state'] as string),
      60_000,
    );
    expect(finished.body['state']).toBe('completed');

    // The upstream stopped: once the tag's TTL ran out its re-check fails, and the cached image still pulls (stale-if-error).
    expect((await call('PATCH', `/distributions/${dist.body.id}`, { tagTtlSeconds: 1 })).status).toBe(200);
    await upstream.stop();
    await new Promise((resolve) => setTimeout(resolve, 2200));
    const again = await mkdtemp(path.join(tmpdir(), 'cistern-podman-'));
    try {
      const authfile = path.join(again, 'auth.json');
      await podman(again, 'login', '--tls-verify=false', '--authfile', authfile, '-u', 'ci', '-p', secret, registryHost);
      await podman(again, 'pull', '--tls-verify=false', '--authfile', authfile, `${registryHost}/cache/team/app:1.0`);
      const { stdout } = await podman(again, 'image', 'inspect', '--format', '{{.Digest}}', `${registryHost}/cache/team/app:1.0`);
      expect(stdout.trim()).toBe(pulledDigest);
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  }, 180_000);
});
