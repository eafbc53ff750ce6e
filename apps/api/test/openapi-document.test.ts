/* eslint-disable @typescript-eslint/no-explicit-any -- the OpenAPI document is read as plain JSON */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDocument, serializeDocument } from '../src/openapi/api-document.ts';
import { documentErrors, operationsWithBody } from './document-conformance.ts';
import { ApiHarness, remoteBody } from './harness.ts';

const h = new ApiHarness();
let ids: Record<string, string> = {};
beforeAll(async () => {
  await h.start();
  const remote = (await h.post('/api/v1/remotes', remoteBody({ name: 'doc-remote' }))).body;
  const repo = (await h.post('/api/v1/repositories', { name: 'doc-repo', remote: remote.id })).body;
  const other = (await h.post('/api/v1/repositories', { name: 'doc-other' })).body;
  const dist = (await h.post('/api/v1/distributions', { name: 'doc-dist', basePath: 'doc', repository: repo.id })).body;
  const schedule = (await h.post('/api/v1/schedules', { name: 'doc-schedule', cron: '0 0 1 1 *', repository: repo.id })).body;
  ids = { remote: remote.id, repo: repo.id, other: other.id, dist: dist.id, schedule: schedule.id };
});
afterAll(() => h.stop());

const digest = `sha256:${'ab'.repeat(32)}`;

/**
 * One body the API accepts for each operation that takes one, sent through
 * the harness, which checks every accepted body against the document.
 */
const EXAMPLES: Record<string, () => [url: string, body: unknown]> = {
  'post /api/v1/remotes': () => ['/api/v1/remotes', remoteBody({ includes: ['3.*', digest], platforms: ['linux/arm64/v8'], username: 'u', password: 'p' })],
  'put /api/v1/remotes/{id}': () => [
    `/api/v1/remotes/${ids.remote}`,
    remoteBody({ name: 'doc-remote', proxyUrl: 'http://proxy.test:3128', policy: 'on_demand' }),
  ],
  'patch /api/v1/remotes/{id}': () => [`/api/v1/remotes/${ids.remote}`, { requestsPerSecond: 2.5, caCert: null }],
  'post /api/v1/repositories': () => ['/api/v1/repositories', { name: 'doc-new', description: 'made by the document test', retainVersions: 3 }],
  'put /api/v1/repositories/{id}': () => [`/api/v1/repositories/${ids.other}`, { name: 'doc-other', remote: ids.remote }],
  'patch /api/v1/repositories/{id}': () => [`/api/v1/repositories/${ids.other}`, { retainVersions: null }],
  'post /api/v1/repositories/{id}/sync': () => [`/api/v1/repositories/${ids.repo}/sync`, { mirror: true }],
  'post /api/v1/repositories/{id}/tag': () => [`/api/v1/repositories/${ids.other}/tag`, { tag: 'v1', digest }],
  'post /api/v1/repositories/{id}/untag': () => [`/api/v1/repositories/${ids.other}/untag`, { tags: ['v1'] }],
  'post /api/v1/repositories/{id}/remove': () => [`/api/v1/repositories/${ids.other}/remove`, { digests: [digest] }],
  'post /api/v1/repositories/{id}/copy': () => [`/api/v1/repositories/${ids.other}/copy`, { sourceRepositoryId: ids.repo, tags: ['v1'] }],
  'post /api/v1/distributions': () => ['/api/v1/distributions', { name: 'doc-pinned', basePath: 'doc/pinned', repository: ids.other, private: true }],
  'put /api/v1/distributions/{id}': () => [`/api/v1/distributions/${ids.dist}`, { name: 'doc-dist', basePath: 'doc/moved', repository: ids.repo }],
  'patch /api/v1/distributions/{id}': () => [`/api/v1/distributions/${ids.dist}`, { private: false }],
  'post /api/v1/tokens': () => [
    '/api/v1/tokens',
    { name: 'doc-pull', scope: 'pull', distributions: [ids.dist], basePaths: ['doc/*'], expiresAt: '2099-01-01T00:00:00.000Z' },
  ],
  'post /api/v1/schedules': () => ['/api/v1/schedules', { kind: 'orphan-cleanup', name: 'doc-cleanup', cron: '0 4 * * 0', params: { dryRun: true } }],
  'put /api/v1/schedules/{id}': () => [
    `/api/v1/schedules/${ids.schedule}`,
    { name: 'doc-schedule', cron: '*/30 * * * * *', repository: ids.repo, timezone: 'Europe/Berlin' },
  ],
  'patch /api/v1/schedules/{id}': () => [`/api/v1/schedules/${ids.schedule}`, { enabled: false }],
  'put /api/v1/settings/media-types': () => ['/api/v1/settings/media-types', { artifacts: true, deny: ['application/vnd.example.*'] }],
  'post /api/v1/orphans/cleanup': () => ['/api/v1/orphans/cleanup', { protectionTimeMinutes: 0, dryRun: true }],
  'post /api/v1/repositories/reclaim': () => ['/api/v1/repositories/reclaim', { repositories: [ids.repo], keepVersions: 2 }],
};

describe('the OpenAPI document against what the API accepts', () => {
  it('has an accepted example for every operation with a body, and each validates against the document (Ajv, JSON Schema 2020-12)', async () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(operationsWithBody().sort());
    for (const [operation, example] of Object.entries(EXAMPLES)) {
      const [url, body] = example();
      const reply = await h.request(operation.slice(0, operation.indexOf(' ')).toUpperCase(), url, body);
      expect([operation, reply.status, reply.body?.error]).toEqual([operation, expect.any(Number), undefined]);
      expect(reply.status, operation).toBeLessThan(300);
    }
  });

  it('refuses, by the document, bodies the API refuses: the check is not a rubber stamp', () => {
    expect(documentErrors('POST', '/api/v1/remotes', remoteBody({ name: 'a\u0007b' }))).toEqual([
      'post /api/v1/remotes: /name must match pattern "' + (apiDocument() as any).components.schemas.Remote.properties.name.pattern + '"',
    ]);
    expect(documentErrors('POST', `/api/v1/repositories/${ids.repo}/tag`, { tag: 'v1' })).toEqual([
      "post /api/v1/repositories/{id}/tag: / must have required property 'digest'",
    ]);
    expect(documentErrors('POST', '/api/v1/repositories/reclaim', { repositories: ['not-a-uuid'] })).toEqual([
      'post /api/v1/repositories/reclaim: /repositories/0 must match format "uuid"',
    ]);
  });

  it('is checked in as apps/api/openapi.json exactly as the API serves it (npm run openapi writes it)', async () => {
    const served = (await h.get('/openapi.json', null)).body;
    const checkedIn = readFileSync(new URL('../openapi.json', import.meta.url), 'utf8');
    expect(serializeDocument(apiDocument()) === checkedIn, 'apps/api/openapi.json is stale: run `npm run openapi` and commit it').toBe(true);
    expect(JSON.parse(checkedIn)).toEqual(served);
  });

  it('answers every request that queues a task with one schema, TaskAccepted', () => {
    const doc = apiDocument() as any;
    const accepted = Object.values(doc.paths as Record<string, Record<string, any>>).flatMap((ops) =>
      Object.values(ops).flatMap((op) => (op.responses?.['202'] ? [op.responses['202'].content['application/json'].schema.$ref] : [])),
    );
    expect(accepted.length).toBe(7);
    expect(new Set(accepted)).toEqual(new Set(['#/components/schemas/TaskAccepted']));
    expect(doc.components.schemas.SyncAccepted).toBeUndefined();
  });
});
