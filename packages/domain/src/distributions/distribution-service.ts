import { Prisma, type Distribution, type PrismaClient } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { versionReference } from '../repositories/find-version.ts';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { found } from '../shared/not-found.ts';
import { listPage, pageArgs } from '../shared/paging.ts';
import { assertExists } from '../shared/references.ts';
import type { ResourceService } from '../shared/resource-service.ts';
import { DistributionInput, type DistributionPatch } from './distribution-input.ts';

/** Filters of the distribution list; undefined parts filter nothing. */
export interface DistributionFilter extends NameFilter {
  basePath?: string;
  private?: boolean;
  /** Distributions serving this repository, its latest or a pinned version of it. */
  repository?: string;
  /** Pull-through distributions of this remote. */
  remote?: string;
}

/**
 * What a distribution serves: a repository and the number of the version it
 * pins (null: the latest), or, pull-through, a remote (then `repository` and
 * `repositoryVersion` are null).
 */
export type DistributionSource =
  { repository: string; repositoryVersion: number | null; remote: null } | { repository: null; repositoryVersion: null; remote: string };

/** A distribution with what it serves. */
export type DistributionView = Distribution & { source: DistributionSource };

/**
 * Distributions: a base path served from a repository's latest version or a
 * pinned one, named by repository and number, or from a remote, pull-through.
 * A repository, version or remote that does not exist throws
 * INVALID_REFERENCE (detail path `repository`, `repositoryVersion` or
 * `remote`); a taken base path is the database's unique violation; a second
 * registry mirror is ALREADY_EXISTS naming the distribution that is one
 * (detail path `registryMirror`). Deleting a pull-through distribution leaves
 * its cache repositories, which then belong to none (their pullThrough
 * becomes null): they are ordinary repositories from then on.
 */
export type DistributionService = ResourceService<DistributionView, DistributionFilter, DistributionInput, DistributionPatch>;

// A pinned distribution names its version only (the version knows its repository).
const withVersion = { repositoryVersion: { select: { repositoryId: true, number: true } } } as const;
type Stored = Distribution & { repositoryVersion: { repositoryId: string; number: number } | null };

function view({ repositoryVersion, ...row }: Stored): DistributionView {
  if (row.remoteId !== null) return { ...row, source: { repository: null, repositoryVersion: null, remote: row.remoteId } };
  const repository = repositoryVersion?.repositoryId ?? (row.repositoryId as string);
  return { ...row, source: { repository, repositoryVersion: repositoryVersion?.number ?? null, remote: null } };
}

/**
 * The stored fields a PATCH starts from, with the source it switches to: one
 * naming `remote` stops serving the repository, one naming `repository` ends
 * pull-through (and being the registry mirror, which only pull-through is)
 * and follows that repository's latest version unless it pins one too.
 */
function patched(stored: DistributionView, patch: DistributionPatch): unknown {
  const { name, basePath, registryMirror, tagTtlSeconds, source } = stored;
  const current = { name, basePath, ...source, registryMirror, tagTtlSeconds, private: stored.private };
  const toRemote = patch.remote ? { repository: null, repositoryVersion: null } : {};
  const toRepository = patch.repository
    ? { remote: null, registryMirror: false, ...(patch.repositoryVersion === undefined ? { repositoryVersion: null } : {}) }
    : {};
  return { ...current, ...toRemote, ...toRepository, ...patch };
}

/** The DistributionService over `prisma`. */
export function distributionService({ prisma }: { prisma: PrismaClient }): DistributionService {
  const find = async (id: string) => view(found(await prisma.distribution.findUnique({ where: { id }, include: withVersion }), 'distribution', id));

  /** At most one registry mirror: the database's partial unique index decides a race; this names the holder. */
  const assertNoOtherMirror = async (id: string | null) => {
    const holder = await prisma.distribution.findFirst({ where: { registryMirror: true, ...(id ? { id: { not: id } } : {}) }, select: { name: true } });
    if (!holder) return;
    const message = `distribution "${holder.name}" is the registry mirror already: at most one distribution is (set its registryMirror to false first)`;
    throw new CisternError('ALREADY_EXISTS', message, { detail: [{ path: 'registryMirror', code: 'already_exists', message }] });
  };

  /**
   * A pull-through distribution serves its cache repositories by upstream name
   * only: pointed at another remote, it would serve what the old one fetched.
   */
  const assertCachesOf = async (stored: DistributionView, remote: string) => {
    const other = await prisma.repository.findFirst({ where: { pullThroughId: stored.id, remoteId: { not: remote } }, select: { name: true } });
    if (!other) return;
    const message = `distribution "${stored.name}" holds cache repositories of another remote (e.g. "${other.name}"): delete them first, or create another distribution for this remote`;
    throw new CisternError('IN_USE', message, { detail: [{ path: 'remote', code: 'in_use', message }] });
  };

  /** A write that lost a race for the registry mirror breaks the unique index: the winner is named as the check before it would have. */
  const write = async (input: DistributionInput, id: string | null, written: () => Promise<Stored>) => {
    try {
      return view(await written());
    } catch (error) {
      if (input.registryMirror && error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') await assertNoOtherMirror(id);
      throw error;
    }
  };

  const toData = async (input: DistributionInput, id: string | null) => {
    const common = { name: input.name, basePath: input.basePath, tagTtlSeconds: input.tagTtlSeconds, private: input.private };
    if (input.remote) {
      await assertExists(prisma, 'remote', input.remote, 'remote');
      if (input.registryMirror) await assertNoOtherMirror(id);
      return { ...common, repositoryId: null, repositoryVersionId: null, remoteId: input.remote, registryMirror: input.registryMirror };
    }
    // The input's refinement leaves a repository here.
    const repository = input.repository as string;
    const pinned = input.repositoryVersion === null ? null : await versionReference(prisma, repository, input.repositoryVersion);
    if (!pinned) await assertExists(prisma, 'repository', repository, 'repository');
    return { ...common, repositoryId: pinned ? null : repository, repositoryVersionId: pinned?.id ?? null, remoteId: null, registryMirror: false };
  };

  return {
    list: async (filter, page) => {
      const where = {
        ...nameWhere(filter),
        basePath: filter.basePath,
        private: filter.private,
        remoteId: filter.remote,
        ...(filter.repository ? { OR: [{ repositoryId: filter.repository }, { repositoryVersion: { repositoryId: filter.repository } }] } : {}),
      };
      const { count, rows } = await listPage(
        prisma.distribution.count({ where }),
        prisma.distribution.findMany({ where, include: withVersion, orderBy: { name: 'asc' }, ...pageArgs(page) }),
      );
      return { count, rows: rows.map(view) };
    },
    get: find,
    create: async (input) => {
      const data = await toData(input, null);
      return write(input, null, () => prisma.distribution.create({ data, include: withVersion }));
    },
    update: async (id, patch) => {
      const stored = await find(id);
      const input = DistributionInput.parse(patched(stored, patch));
      if (input.remote) await assertCachesOf(stored, input.remote);
      const data = await toData(input, stored.id);
      return write(input, stored.id, () => prisma.distribution.update({ where: { id: stored.id }, data, include: withVersion }));
    },
    delete: async (id) => {
      const row = await find(id);
      await prisma.distribution.delete({ where: { id: row.id } });
    },
  };
}
