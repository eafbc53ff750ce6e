import { manifestClosure, resolveAliases, versionManifests, versionTags, writeRepositoryVersion, type PrismaClient, type VersionChanges } from '@cistern/db';
import { repositoryVersionHref, TaskError, type TaskHandler, type TaskHandlers, type TaskKind, type TaskResult } from '@cistern/queue';

async function latestContent(prisma: PrismaClient, repositoryId: string, version?: number) {
  const repository = await prisma.repository.findUnique({ where: { id: repositoryId }, select: { latestVersion: true } });
  if (!repository) throw new TaskError('REPOSITORY_UNKNOWN', `repository ${repositoryId} does not exist`);
  const n = version ?? repository.latestVersion;
  if (version !== undefined && !(await prisma.repositoryVersion.findFirst({ where: { repositoryId, number: n } }))) {
    throw new TaskError('VERSION_UNKNOWN', `repository ${repositoryId} has no version ${n}`);
  }
  return { manifests: await versionManifests(prisma, repositoryId, n), tags: await versionTags(prisma, repositoryId, n) };
}

async function write(prisma: PrismaClient, repositoryId: string, changes: VersionChanges): Promise<TaskResult> {
  const written = await writeRepositoryVersion(prisma, repositoryId, changes);
  return { createdResources: written ? [repositoryVersionHref(repositoryId, written.version.number)] : [] };
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

/**
 * tag, untag, remove and copy: each writes one new version through the
 * repository-version writer, under the repository's lock (the task's resource),
 * so content actions and syncs of one repository serialize.
 */
export function contentTaskHandlers(prisma: PrismaClient): Pick<TaskHandlers, Exclude<TaskKind, 'sync'>> {
  const tag: TaskHandler<'tag'> = async ({ params }) => {
    const { manifests } = await latestContent(prisma, params.repositoryId);
    const [digest = params.digest] = await memberDigests(prisma, [params.digest], manifests, 'the latest version');
    return write(prisma, params.repositoryId, { addTags: [[params.tag, digest]] });
  };
  const untag: TaskHandler<'untag'> = async ({ params }) => {
    const { tags } = await latestContent(prisma, params.repositoryId);
    unknownTags(params.tags, tags, 'the latest version');
    return write(prisma, params.repositoryId, { removeTags: params.tags });
  };
  const remove: TaskHandler<'remove'> = async ({ params }) => {
    const { manifests, tags } = await latestContent(prisma, params.repositoryId);
    const digests = await memberDigests(prisma, params.digests, manifests, 'the latest version');
    unknownTags(params.tags, tags, 'the latest version');
    // An index takes its children and every removed manifest its referrers, unless something that stays still needs them.
    const removed = await manifestClosure(prisma, digests, manifests);
    const staying = new Set([...manifests].filter((d) => !removed.has(d)));
    const stillNeeded = await manifestClosure(prisma, staying, manifests);
    return write(prisma, params.repositoryId, {
      removeManifests: [...removed].filter((d) => digests.includes(d) || !stillNeeded.has(d)),
      removeTags: params.tags,
    });
  };
  const copy: TaskHandler<'copy'> = async ({ params }) => {
    const source = await latestContent(prisma, params.sourceRepositoryId, params.sourceVersion);
    await latestContent(prisma, params.repositoryId);
    const digests = await memberDigests(prisma, params.digests, source.manifests, 'the source version');
    unknownTags(params.tags, source.tags, 'the source version');
    const everything = digests.length === 0 && params.tags.length === 0;
    const tags = everything ? [...source.tags] : params.tags.map((t) => [t, source.tags.get(t) as string] as const);
    const roots = everything ? source.manifests : [...digests, ...tags.map(([, d]) => d)];
    return write(prisma, params.repositoryId, { addManifests: await manifestClosure(prisma, roots, source.manifests), addTags: tags });
  };
  return { tag, untag, remove, copy };
}
