// One Cistern sync in its own process, so the benchmark can measure its wall
// time and peak RSS the way it measures skopeo's. Prints one JSON line.
import { randomBytes } from 'node:crypto';
import { createRepository, openDatabase } from '@cistern/db';
import { DEFAULT_POLICY } from '@cistern/oci';
import { FilesystemBlobStore } from '@cistern/storage';
import { clientForRemote, syncRepository, type SyncProgress } from '@cistern/sync';

const [databaseUrl, storageDir, url, upstreamName] = process.argv.slice(2) as [string, string, string, string];
const db = await openDatabase({ databaseUrl, dataDir: '/nonexistent', allowEmbedded: false });
const prisma = db.prisma;
const remote =
  (await prisma.remote.findUnique({ where: { name: 'bench' } })) ?? (await prisma.remote.create({ data: { name: 'bench', url, upstreamName } }));
const repository =
  (await prisma.repository.findUnique({ where: { name: 'bench' } })) ?? (await createRepository(prisma, { name: 'bench' }));
// When each progress report first appears: the phases' start times, for the benchmark's breakdown.
const firstSeen: Record<string, number> = {};
const seen = (code: string) => (firstSeen[code] ??= Math.round(performance.now() - started));
const started = performance.now();
const progress: SyncProgress = {
  report: (code) => seen(code),
  increment: (code) => void seen(code),
  checkpoint: () => undefined,
  signal: new AbortController().signal,
};
// Counted in the process, by method and kind, so the timed run needs no proxy in the path.
const requests: Record<string, number> = {};
const client = clientForRemote(remote, randomBytes(32), {
  onRequest: (event) => void (requests[`${event.method} ${event.kind}`] = (requests[`${event.method} ${event.kind}`] ?? 0) + 1),
});
const result = await syncRepository(
  { prisma, storage: new FilesystemBlobStore(storageDir), client, progress },
  { repositoryId: repository.id, remote, mirror: false, policy: DEFAULT_POLICY, maxManifestBytes: 4 * 1024 * 1024 },
);
console.log(JSON.stringify({ ...result, wallMs: Math.round(performance.now() - started), phasesMs: firstSeen, requests }));
await db.close();
