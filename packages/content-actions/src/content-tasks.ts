import {
  chunked,
  ContentHolds,
  manifestClosure,
  resolveAliases,
  touchManifests,
  versionManifests,
  versionTags,
  writeRepositoryVersion,
  type ContentHold,
  type PrismaClient,
  type VersionChanges,
} from '@cistern/db';
import { defineTask, TaskError, type TaskResult } from '@cistern/queue';
import { copyParamsSchema, removeParamsSchema, tagParamsSchema, untagParamsSchema } from './content-params.ts';

/** What the content tasks need from the process. */
export interface ContentTaskDeps {
  prisma: PrismaClient;
  /** The href a task names a version it wrote by in `createdResources` (the API's, passed in). */
  versionHref(repositoryId: string, version: number): string;
}

async function latestContent(prisma: PrismaClient, repositoryId: string, version?: number) {
  const repository = await prisma.repository.findUnique({ where: { id: repositoryId }, select: { latestVersion: true } });
  if (!repository) throw new TaskError('REPOSITORY_UNKNOWN', `repository ${repositoryId} does not exist`);
  const n = version ?? repository.latestVersion;
  if (version !== undefined && !(await prisma.repositoryVersion.findFirst({ where: { repositoryId, number: n } }))) {
    throw new TaskError('VERSION_UNKNOWN', `repository ${repositoryId} has no version ${n}`);
  }
  return { manifests: await versionManifests(prisma, repositoryId, n), tags: await versionTags(prisma, repositoryId, n) };
}

async function write({ prisma, versionHref }: ContentTaskDeps, repositoryId: string, changes: VersionChanges): Promise<TaskResult> {
  const written = await writeRepositoryVersion(prisma, repositoryId, changes);
  return { createdResources: written ? [versionHref(repositoryId, written.version.number)] : [] };
}

/**
 * The named manifests of a version by their canonical (sha256) digests: a
 * manifest may be named by any digest it is known by. Throws MANIFEST_UNKNOWN
 * naming, as given, those the version does not hold.
 */
async function memberDigests(prisma: PrismaClient, digests: readonly string[], present: ReadonlySet<string>, where: string): Promise<string[]> {
  const aliases = await resolveAliases(prisma, digests);
  const canonical = digests.map((d) => aliases.get(d) ?? d);
  const missing = digests.filter((_, i) => !present.has(canonical[i] as string));
  if (missing.length > 0) throw new TaskError('MANIFEST_UNKNOWN', `not in ${where}: ${missing.join(', ')}`, { detail: { digests: missing } });
  return canonical;
}

function unknownTags(tags: string[], present: ReadonlyMap<string, string>, where: string): void {
  const missing = tags.filter((t) => !present.has(t));
  if (missing.length > 0) throw new TaskError('TAG_UNKNOWN', `not in ${where}: ${missing.join(', ')}`, { detail: { tags: missing } });
}

// tag, untag, remove and copy: each writes one new version through the
// repository-version writer, under the repository's lock (the task's resource),
// so content actions and syncs of one repository serialize.

/** Points a tag at a manifest of the latest version. */
export const tagTask = defineTask({
  name: 'tag',
  params: tagParamsSchema,
  handler(deps: ContentTaskDeps) {
    return async ({ params }) => {
      const { prisma } = deps;
      const { manifests } = await latestContent(prisma, params.repositoryId);
      const [digest = params.digest] = await memberDigests(prisma, [params.digest], manifests, 'the latest version');
      return write(deps, params.repositoryId, { addTags: [[params.tag, digest]] });
    };
  },
});

/** Removes tags from the latest version; their manifests stay. */
export const untagTask = defineTask({
  name: 'untag',
  params: untagParamsSchema,
  handler(deps: ContentTaskDeps) {
    return async ({ params }) => {
      const { tags } = await latestContent(deps.prisma, params.repositoryId);
      unknownTags(params.tags, tags, 'the latest version');
      return write(deps, params.repositoryId, { removeTags: params.tags });
    };
  },
});

/** Removes manifests (with their tags, index children and referrers) or tags. */
export const removeTask = defineTask({
  name: 'remove',
  params: removeParamsSchema,
  handler(deps: ContentTaskDeps) {
    return async ({ params }) => {
      const { prisma } = deps;
      const { manifests, tags } = await latestContent(prisma, params.repositoryId);
      const digests = await memberDigests(prisma, params.digests, manifests, 'the latest version');
      unknownTags(params.tags, tags, 'the latest version');
      // An index takes its children and every removed manifest its referrers, unless something that stays still needs them.
      const removed = await manifestClosure(prisma, digests, manifests);
      const staying = new Set([...manifests].filter((d) => !removed.has(d)));
      const stillNeeded = await manifestClosure(prisma, staying, manifests);
      return write(deps, params.repositoryId, {
        removeManifests: [...removed].filter((d) => digests.includes(d) || !stillNeeded.has(d)),
        removeTags: params.tags,
      });
    };
  },
});

/** Touches every manifest a copy adds, in batches; one a cleanup removed meanwhile fails the copy with MANIFEST_UNKNOWN. */
async function relyOn(prisma: PrismaClient, digests: ReadonlySet<string>, hold: ContentHold): Promise<void> {
  for (const batch of chunked(digests, 5000)) {
    const touched = new Set((await touchManifests(prisma, batch, hold)).map((row) => row.digest));
    const gone = batch.filter((digest) => !touched.has(digest));
    if (gone.length > 0) throw new TaskError('MANIFEST_UNKNOWN', `removed while copying: ${gone.join(', ')}`, { detail: { digests: gone } });
  }
}

/** Copies tags or digests, with what they reference, from another repository version (all of it when none are named). */
export const copyTask = defineTask({
  name: 'copy',
  params: copyParamsSchema,
  handler(deps: ContentTaskDeps) {
    return async ({ params }) => {
      const { prisma } = deps;
      // Under a content hold: the source version may be pruned or deleted meanwhile, orphaning what is copied.
      return new ContentHolds(prisma).during(`copy:${params.repositoryId}`, async (hold) => {
        const source = await latestContent(prisma, params.sourceRepositoryId, params.sourceVersion);
        await latestContent(prisma, params.repositoryId);
        const digests = await memberDigests(prisma, params.digests, source.manifests, 'the source version');
        unknownTags(params.tags, source.tags, 'the source version');
        const everything = digests.length === 0 && params.tags.length === 0;
        const tags = everything ? [...source.tags] : params.tags.map((t) => [t, source.tags.get(t) as string] as const);
        const roots = everything ? source.manifests : [...digests, ...tags.map(([, d]) => d)];
        const copied = await manifestClosure(prisma, roots, source.manifests);
        await relyOn(prisma, copied, hold);
        return write(deps, params.repositoryId, { addManifests: copied, addTags: tags });
      });
    };
  },
});

/** Every content action kind: the worker binds them all, the API creates them. */
export const contentTasks = [tagTask, untagTask, removeTask, copyTask] as const;
