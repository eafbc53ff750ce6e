import { canPull, type PullReach } from '@cistern/auth';
import { describe, expect, it } from 'vitest';
import { catalogPage, type DistributionDirectory, type ReadCheck } from '../src/index.ts';

const vault = { id: 'vault-id', name: 'vault', basePath: 'vault', private: true, content: null };
const pullThrough = { remoteId: 'r', tagTtlSeconds: 300, registryMirror: false, upstreamHost: 'example.test' };

/** One private pull-through distribution of many cached names; counts the reads of them. */
function directory(): { directory: DistributionDirectory; reads: number } {
  const counted = {
    reads: 0,
    directory: {
      list: async () => [{ ...vault, pullThrough }],
      cachedNames: async (_id: string, page: { after: string; limit: number; among?: readonly string[] }) => {
        counted.reads += 1;
        const names = page.among ? [...page.among] : ['lib/a', 'lib/b'];
        return names.filter((name) => name > page.after).slice(0, page.limit);
      },
    } as unknown as DistributionDirectory,
  };
  return counted;
}

const auth: ReadCheck = {
  mayList: (target, caller) => caller.claims?.reach !== undefined && canPull(caller.claims.reach, target.distribution.id, target.name),
};

function caller(reach: PullReach) {
  return { presented: true, claims: { subject: 't', access: [], reach } };
}

describe('catalogPage', () => {
  it("reads no name of a private distribution a catalog grant's reach does not reach into", async () => {
    const elsewhere = directory();
    const page = await catalogPage(
      elsewhere.directory,
      auth,
      caller({ allDistributions: false, distributionIds: ['other'], basePaths: ['cache/*', 'vaulted'] }),
      {},
    );
    expect([page.items, elsewhere.reads]).toEqual([[], 0]);
    for (const reach of [
      { allDistributions: false, distributionIds: ['vault-id'], basePaths: [] },
      { allDistributions: false, distributionIds: [], basePaths: ['vault/*'] },
      { allDistributions: false, distributionIds: [], basePaths: ['vault/lib/*'] },
      { allDistributions: true, distributionIds: [], basePaths: [] },
    ]) {
      expect((await catalogPage(directory().directory, auth, caller(reach), {})).items).toEqual(['vault/lib/a', 'vault/lib/b']);
    }
  });
});
