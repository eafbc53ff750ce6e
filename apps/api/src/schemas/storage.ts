import { z } from 'zod';
import { Bytes } from './common.ts';

const Count = z.number().int().min(0);

export const StorageSummary = z
  .object({
    blobs: z.object({
      count: Count.describe('blob rows, stored or not (on-demand blobs are rows before they are bytes)'),
      storedCount: Count.describe('blobs whose verified bytes are in storage'),
      storedBytes: Bytes.describe('total size of the stored blobs, in bytes'),
    }),
    manifests: z.object({ count: Count }),
    remoteArtifacts: z.object({ count: Count.describe('where on-demand blobs can be fetched from') }),
    orphans: z
      .object({
        manifests: Count.describe('manifests no repository version holds (no manifest or tag membership row)'),
        blobs: Count.describe('blobs no manifest a repository holds references, stored or not'),
        blobBytes: Bytes.describe(
          'total size of the stored orphan blobs, in bytes: what a cleanup with protection time 0 would free on disk (a protection time keeps recently used ones)',
        ),
      })
      .describe('what orphan cleanup would remove'),
    temporary: z
      .object({ files: Count, bytes: Bytes.describe('in bytes') })
      .describe("files of writes in progress or abandoned by a crash, in the blob store's temporary area"),
  })
  .meta({ id: 'StorageSummary' });
