import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, remoteBody } from './harness.ts';

const h = new ApiHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());

const repo = async (body: Record<string, unknown>) => (await h.post('/api/v1/repositories', body)).body;

describe('repositories', () => {
  it('creates with version 0, shows, patches, replaces, lists by remote and deletes', async () => {
    const remote = (await h.post('/api/v1/remotes', remoteBody())).body;
    const created = await h.post('/api/v1/repositories', { name: 'app', remote: remote.id, retainVersions: 5 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'app', remote: remote.id, latestVersion: 0, retainVersions: 5, description: null });
    const id = created.body.id;
    expect((await h.get(`/api/v1/repositories/${id}/versions`)).body.results.map((v: { number: number }) => v.number)).toEqual([0]);
    expect((await h.patch(`/api/v1/repositories/${id}`, { description: 'mirror of app' })).body).toMatchObject({
      description: 'mirror of app',
      retainVersions: 5,
    });
    expect((await h.put(`/api/v1/repositories/${id}`, { name: 'app' })).body).toMatchObject({ description: null, remote: null, retainVersions: null });
    await h.patch(`/api/v1/repositories/${id}`, { remote: remote.id });
    expect((await h.get(`/api/v1/repositories?remote=${remote.id}`)).body.count).toBe(1);
    expect((await h.delete(`/api/v1/repositories/${id}`)).status).toBe(204);
    expect((await h.get(`/api/v1/repositories/${id}`)).status).toBe(404);
  });

  it('rejects bad input, unknown remotes and taken names', async () => {
    const bad = await h.post('/api/v1/repositories', { name: 'x', retainVersions: 0, remote: 'nope' });
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.remote', 'body.retainVersions']);
    const unknown = await h.post('/api/v1/repositories', { name: 'x', remote: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('INVALID_REFERENCE');
    await repo({ name: 'dup' });
    expect((await h.post('/api/v1/repositories', { name: 'dup' })).status).toBe(409);
  });

  it('queues a sync as a task row and a BullMQ job, returns the waiting twin, and 400s without a remote', async () => {
    const remote = (await h.post('/api/v1/remotes', remoteBody())).body;
    const r = await repo({ name: 'synced', remote: remote.id });
    const first = await h.post(`/api/v1/repositories/${r.id}/sync`, {});
    expect(first.status).toBe(202);
    expect(first.body.task).toMatchObject({
      kind: 'sync',
      state: 'waiting',
      resource: `repository:${r.id}`,
      params: { repositoryId: r.id, remoteId: remote.id, mirror: false },
    });
    const row = await h.prisma.task.findUniqueOrThrow({ where: { id: first.body.task.id } });
    expect(row.state).toBe('waiting');
    const job = await h.taskQueue.getJob(row.id);
    expect(job?.name).toBe('sync');
    expect(job?.data).toEqual({ taskId: row.id });
    const twin = await h.post(`/api/v1/repositories/${r.id}/sync`, { mirror: false });
    expect(twin.body.task.id).toBe(row.id);
    const mirror = await h.post(`/api/v1/repositories/${r.id}/sync`, { mirror: true });
    expect(mirror.body.task.id).not.toBe(row.id);
    const bare = await repo({ name: 'no-remote' });
    const refused = await h.post(`/api/v1/repositories/${bare.id}/sync`, {});
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('NO_REMOTE');
    expect((await h.post(`/api/v1/repositories/${bare.id}/sync`, { remote: remote.id })).status).toBe(202);
    expect((await h.post(`/api/v1/repositories/${bare.id}/sync`, { remote: '00000000-0000-4000-8000-000000000000' })).status).toBe(400);
    expect((await h.post(`/api/v1/repositories/${bare.id}/sync`, { mirror: 'yes' })).status).toBe(400);
    // A repository with waiting tasks cannot be deleted from under them.
    const blocked = await h.delete(`/api/v1/repositories/${r.id}`);
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.message).toContain('is waiting');
  });

  it('guards versions: 0, the latest and pinned ones stay; others go with a content summary before', async () => {
    const r = await repo({ name: 'versioned' });
    const digest = `sha256:${'a'.repeat(64)}`;
    const blob = `sha256:${'b'.repeat(64)}`;
    await h.prisma.blob.create({ data: { digest: blob, size: 10n, stored: true } });
    await h.prisma.manifest.create({
      data: {
        digest,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        classification: 'image',
        size: 2n,
        raw: Buffer.from('{}'),
        blobs: { create: { blobDigest: blob, role: 'layer', position: 0 } },
      },
    });
    await h.prisma.repositoryVersion.createMany({ data: [1, 2, 3].map((number) => ({ repositoryId: r.id, number })) });
    await h.prisma.repositoryManifest.create({ data: { repositoryId: r.id, manifestDigest: digest, versionAdded: 1, versionRemoved: 3 } });
    await h.prisma.repositoryTag.create({ data: { repositoryId: r.id, name: 'v1', manifestDigest: digest, versionAdded: 1, versionRemoved: 2 } });
    await h.prisma.repository.update({ where: { id: r.id }, data: { latestVersion: 3 } });
    const v1 = await h.get(`/api/v1/repositories/${r.id}/versions/1`);
    expect(v1.body.content).toEqual({
      added: { manifests: 1, tags: 1, blobs: 1 },
      removed: { manifests: 0, tags: 0, blobs: 0 },
      present: { manifests: 1, tags: 1, blobs: 1 },
    });
    const v3 = await h.get(`/api/v1/repositories/${r.id}/versions/3`);
    expect(v3.body.content).toEqual({
      added: { manifests: 0, tags: 0, blobs: 0 },
      removed: { manifests: 1, tags: 0, blobs: 1 },
      present: { manifests: 0, tags: 0, blobs: 0 },
    });
    const list = await h.get(`/api/v1/repositories/${r.id}/versions?limit=2`);
    expect(list.body).toMatchObject({ count: 4, results: [{ number: 3 }, { number: 2 }] });
    expect((await h.delete(`/api/v1/repositories/${r.id}/versions/0`)).body.error.code).toBe('VERSION_PROTECTED');
    expect((await h.delete(`/api/v1/repositories/${r.id}/versions/3`)).body.error.code).toBe('VERSION_PROTECTED');
    const pin = await h.post('/api/v1/distributions', { name: 'pin', basePath: 'pinned/app', repository: r.id, repositoryVersion: 2 });
    expect(pin.body).toMatchObject({ repository: r.id, repositoryVersion: 2 });
    expect((await h.delete(`/api/v1/repositories/${r.id}/versions/2`)).body.error).toMatchObject({ code: 'IN_USE', message: expect.stringContaining('"pin"') });
    await h.delete(`/api/v1/distributions/${pin.body.id}`);
    expect((await h.delete(`/api/v1/repositories/${r.id}/versions/1`)).status).toBe(204);
    // The tag lived only in version 1: its range goes with it; the manifest's range still covers version 2.
    expect(await h.prisma.repositoryTag.count({ where: { repositoryId: r.id } })).toBe(0);
    expect(await h.prisma.repositoryManifest.count({ where: { repositoryId: r.id } })).toBe(1);
    expect((await h.get(`/api/v1/repositories/${r.id}/versions/1`)).body.error.code).toBe('VERSION_UNKNOWN');
    expect((await h.get(`/api/v1/repositories/${r.id}/versions/x`)).status).toBe(404);
  });

  it('refuses to delete a repository a distribution serves', async () => {
    const r = await repo({ name: 'served' });
    await h.post('/api/v1/distributions', { name: 'served', basePath: 'served', repository: r.id });
    const reply = await h.delete(`/api/v1/repositories/${r.id}`);
    expect(reply.status).toBe(409);
    expect(reply.body.error.message).toContain('distribution "served" serves it');
  });
});
