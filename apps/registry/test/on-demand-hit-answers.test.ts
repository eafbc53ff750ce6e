import { randomBytes, randomUUID } from 'node:crypto';
import type { PrismaClient } from '@cistern/db';
import { RemoteSources } from '@cistern/registry-core';
import { sha256 } from '@cistern/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

// Whether a pull of a stored blob is an on-demand cache hit is one query per
// digest, read through the real database; a counting decorator over the
// Prisma client sees every query, and fails the ones a test asks it to.

const h = new RegistryHarness();
// Long enough for a busy machine to record the artifact in between.
const NOT_ON_DEMAND_MS = 3000;
let reads = 0;
let failing = 0;
let sources: RemoteSources;

beforeAll(async () => {
  await h.start();
  const counted = h.db.prisma.$extends({
    query: {
      remoteArtifact: {
        async findFirst({ args, query }) {
          reads += 1;
          if (failing > 0) {
            failing -= 1;
            throw new Error('the database did not answer');
          }
          return query(args);
        },
      },
    },
  });
  sources = new RemoteSources(counted as unknown as PrismaClient, h.secretKey, { notOnDemandMs: NOT_ON_DEMAND_MS });
}, 60_000);
afterAll(() => h.stop());
beforeEach(() => {
  reads = 0;
  failing = 0;
});

/** A blob row in `role` of a manifest, recorded by a new remote with `policy`; returns its digest. */
async function recordedBlob(policy: 'on_demand' | 'immediate', role: 'layer' | 'config' = 'layer'): Promise<string> {
  const digest = sha256(randomBytes(64));
  await h.db.prisma.blob.create({ data: { digest, size: 64, stored: true } });
  const raw = randomBytes(32);
  await h.db.prisma.manifest.create({
    data: {
      digest: sha256(raw),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      classification: 'image',
      size: raw.length,
      raw,
      blobs: { create: { blobDigest: digest, role, position: 0 } },
    },
  });
  await record(digest, policy);
  return digest;
}

async function record(digest: string, policy: 'on_demand' | 'immediate'): Promise<void> {
  const upstreamName = `lib/${randomUUID()}`;
  const remote = await h.remote({ url: 'http://127.0.0.1:9', upstreamName, policy });
  await h.db.prisma.remoteArtifact.create({ data: { blobDigest: digest, remoteId: remote.id, upstreamName } });
}

const ask = (digest: string, times: number) => Promise.all(Array.from({ length: times }, () => sources.recordedOnDemand(digest)));

describe('recordedOnDemand', () => {
  it('makes one query for concurrent pulls of a digest, and none for later ones', async () => {
    const digest = await recordedBlob('on_demand');
    expect(await ask(digest, 8)).toEqual(Array.from({ length: 8 }, () => true));
    expect(await ask(digest, 2)).toEqual([true, true]);
    expect(reads).toBe(1);
  });

  it('answers no for a config: an on_demand sync downloads configs itself, so their pulls are no cache hits', async () => {
    const digest = await recordedBlob('on_demand', 'config');
    expect(await ask(digest, 1)).toEqual([false]);
  });

  it('believes a "no" for a short time only: a sync may record the blob for an on_demand remote later', async () => {
    const digest = await recordedBlob('immediate');
    expect(await ask(digest, 4)).toEqual([false, false, false, false]);
    await record(digest, 'on_demand');
    expect(await ask(digest, 1)).toEqual([false]);
    expect(reads).toBe(1);
    await expect.poll(() => sources.recordedOnDemand(digest), { timeout: 10_000, interval: 100 }).toBe(true);
    expect(reads).toBe(2);
  });

  it('keeps no failed query: the pulls that shared it fail, the next one asks again', async () => {
    const digest = await recordedBlob('on_demand');
    failing = 1;
    const shared = await Promise.allSettled([sources.recordedOnDemand(digest), sources.recordedOnDemand(digest)]);
    expect(shared.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(await ask(digest, 3)).toEqual([true, true, true]);
    expect(reads).toBe(2);
  });
});
