import { versionManifests, versionTags } from '@cistern/db';
import { addCorpus, RegistryContent, startQuay, ZOO, type DockerHub, type ZooMember, type ZooMemberName } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../src/sync-progress.ts';
import { SyncHarness } from './harness.ts';

const content = new RegistryContent();
const corpus = addCorpus(content);

/** Quay pages at 2 here, so the corpus's four tags take two pages joined by an opaque `next_page`. */
function startMember(name: ZooMemberName): Promise<ZooMember> {
  return name === 'quay' ? startQuay(content, { pageSize: 2 }) : ZOO[name](content);
}

describe.each(Object.keys(ZOO) as ZooMemberName[])('mirroring the zoo corpus from %s', (name) => {
  // A database and blob store per member, so each one has to deliver every blob itself.
  const h = new SyncHarness();
  let member: ZooMember;
  beforeAll(async () => {
    await h.start();
    member = await startMember(name);
  });
  afterAll(async () => {
    await member?.stop();
    await h.stop();
  });

  it('mirrors the corpus with the requests it needs, credentials stay off storage, and a resync changes nothing', async () => {
    const remote = await h.remote({ url: member.url, upstreamName: member.repositoryFor(corpus.repository), ...member.credentials });
    const repository = await h.repository();

    const first = await h.sync(remote, repository);
    expect(first.progress.reports.get(Report.manifestsRefused)?.items ?? []).toEqual([]);
    expect(first.progress.reports.get(Report.manifestsFailed)?.items ?? []).toEqual([]);
    expect(first.result.warnings).toEqual([]);
    expect(first.result.version).toBe(1);
    expect(Object.fromEntries(await versionTags(h.db.prisma, repository.id, 1))).toEqual(corpus.tags);
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(corpus.manifests);
    for (const blob of corpus.blobs) expect(await h.storage.exists(blob)).toBe(true);
    // The SBOM (from the Referrers API or the tag schema) and the cosign signature.
    expect(first.progress.done(Report.referrers)).toBe(2);
    const asked = member.origins.registry?.counts();
    // Each manifest and each blob is asked of the registry once.
    expect(asked?.blob).toBe(corpus.blobs.size);
    // Where HEAD carries no digest, the GET that replaces it is the one GET the manifest costs.
    expect(asked?.['manifest-get']).toBe(corpus.manifests.size);
    const counts = member.counts();
    // One token serves the whole sync.
    expect(counts.token).toBe(member.auth === 'bearer' ? 1 : 0);
    // Without the API, one 404 sends every subject to the tag schema.
    const referrers = member.requests().filter((r) => r.kind === 'referrers');
    if (!member.referrersApi) expect(referrers.filter((r) => r.status === 404)).toHaveLength(1);
    else expect(referrers.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    expect(member.leaks()).toBe(0);

    if (name === 'docker-hub') (member as DockerHub).budget.remaining = 0;
    member.resetCounts();
    const again = await h.sync(remote, repository);
    expect(again.result.version).toBeNull();
    const resync = member.counts();
    // Where HEAD carries the digest a resync costs no pulls, so Docker Hub's spent budget does not matter.
    if (member.sendsDigests) expect(resync['manifest-get']).toBe(0);
    expect(resync.blob).toBe(0);
    expect(member.leaks()).toBe(0);
  });
});
