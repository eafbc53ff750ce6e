import { json, OCI_CONFIG, OCI_MANIFEST, type SyntheticUpstream } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncFixture, type SeparateCistern, type SyncFixture } from './processes.ts';

// Distribution answers every tag in one body. A 20 MB listing (above the old
// 16 MiB page limit) streams through a real worker: the sync completes and
// writes the tags its filter selected. bench/upstream-scale does a million.
const LISTED = 500_000;
const REPO = 'team/many';

let fixture: SyncFixture;
let cistern: SeparateCistern;
let upstream: SyntheticUpstream;

beforeAll(async () => {
  fixture = await startSyncFixture();
  ({ cistern, upstream } = fixture);
});
afterAll(async () => {
  await fixture?.stop();
});

describe('a 20 MB tag list in one body', () => {
  it('streams through the worker, and the sync writes the selected tags', async () => {
    const config = json({ architecture: 'amd64', os: 'linux' });
    const configDigest = upstream.addBlob(REPO, config);
    const manifest = json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: [],
    });
    const tags = Array.from({ length: LISTED }, (_, i) => `${i % 5000 === 0 ? 'keep' : 'skip'}-build-${String(i).padStart(24, '0')}`);
    upstream.addManifest(
      REPO,
      manifest,
      OCI_MANIFEST,
      tags.filter((t) => t.startsWith('keep')),
    );
    const body = Buffer.from(JSON.stringify({ name: REPO, tags }));
    expect(body.length).toBeGreaterThan(16 * 1024 * 1024);
    upstream.intercept((req, res) => {
      if (!req.url?.startsWith(`/v2/${REPO}/tags/list`)) return false;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
      return true;
    });

    const id = await cistern.sync({ url: upstream.url, upstreamName: REPO, includes: ['keep-*'] });
    const task = await cistern.waitTask(id, (t) => ['completed', 'failed', 'canceled'].includes(t.state), 30_000, 100);
    expect(task.state, JSON.stringify(task.error)).toBe('completed');
    expect(task.progressReports.find((r) => r.code === 'sync.tags')).toMatchObject({ done: LISTED, state: 'completed' });
    expect(task.warnings ?? []).toEqual([]);
    const repository = (task.createdResources[0] ?? '').split('/')[4];
    const version = await cistern.call('GET', `/repositories/${repository}/versions/1`);
    expect(version.body.content).toMatchObject({ present: { manifests: 1, tags: LISTED / 5000 } });
  });
});
