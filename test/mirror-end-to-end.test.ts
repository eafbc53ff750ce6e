import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pushImage, startDistribution, type Distribution } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUserCistern, type ApiReply, type UserCistern } from './processes.ts';

const run = promisify(execFile);

let upstream: Distribution;
let cistern: UserCistern;
let registryHost: string;

beforeAll(async () => {
  upstream = await startDistribution();
  cistern = await startUserCistern();
  registryHost = cistern.registryHost;
});
afterAll(async () => {
  await cistern?.stop();
  await upstream?.stop();
});

interface Task {
  id: string;
  state: string;
}

const call = async (method: string, url: string, body?: unknown) => {
  const reply = await cistern.call(method, url, body);
  return { status: reply.status, body: reply.body as ApiReply['body'] & Task & { task: Task } };
};

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
