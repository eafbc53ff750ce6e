import type { PrismaClient, Remote, SyncPolicy } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { found } from '../shared/not-found.ts';
import { listPage, pageArgs } from '../shared/paging.ts';
import type { ResourceService } from '../shared/resource-service.ts';
import { remoteData, storedInput } from './remote-data.ts';
import { RemoteInput, type RemotePatch } from './remote-input.ts';
import { viewRemote, type RemoteView } from './remote-view.ts';

/** Filters of the remote list; undefined parts filter nothing. */
export interface RemoteFilter extends NameFilter {
  policy?: SyncPolicy;
  url?: string;
}

/**
 * Remotes: where and how to fetch. Passwords are sealed at rest and never
 * leave this service: every remote comes back as a RemoteView. A stored
 * password that an update would leave without its user name throws
 * VALIDATION_FAILED (detail path `username` or `proxyUsername`); deleting a
 * remote a repository, a schedule or a pull-through distribution names is
 * IN_USE, naming them.
 */
export interface RemoteService extends ResourceService<RemoteView, RemoteFilter, RemoteInput, RemotePatch> {
  /** Every field from `input`, defaults included, except passwords left out, which are kept. */
  replace(id: string, input: RemoteInput): Promise<RemoteView>;
}

/** The RemoteService over `prisma`, sealing passwords under `secretKey`. */
export function remoteService({ prisma, secretKey }: { prisma: PrismaClient; secretKey: Buffer }): RemoteService {
  const find = async (id: string) => found(await prisma.remote.findUnique({ where: { id } }), 'remote', id);
  const write = async (stored: Remote, input: RemoteInput) =>
    viewRemote(await prisma.remote.update({ where: { id: stored.id }, data: remoteData(secretKey, input, stored) }));

  return {
    list: async (filter, page) => {
      const where = { ...nameWhere(filter), policy: filter.policy, url: filter.url };
      const { count, rows } = await listPage(prisma.remote.count({ where }), prisma.remote.findMany({ where, orderBy: { name: 'asc' }, ...pageArgs(page) }));
      return { count, rows: rows.map(viewRemote) };
    },
    get: async (id) => viewRemote(await find(id)),
    create: async (input) => viewRemote(await prisma.remote.create({ data: remoteData(secretKey, input, null) })),
    replace: async (id, input) => write(await find(id), input),
    update: async (id, patch) => {
      const stored = await find(id);
      return write(stored, RemoteInput.parse({ ...storedInput(stored), ...patch }));
    },
    delete: async (id) => {
      const remote = await find(id);
      const query = { where: { remoteId: remote.id }, select: { name: true }, take: 5 } as const;
      const [repositories, schedules, distributions] = await Promise.all([
        prisma.repository.findMany(query),
        prisma.schedule.findMany(query),
        prisma.distribution.findMany(query),
      ]);
      const users = [
        ...repositories.map((r) => `repository "${r.name}"`),
        ...schedules.map((s) => `schedule "${s.name}"`),
        ...distributions.map((d) => `distribution "${d.name}"`),
      ];
      if (users.length > 0) {
        throw new CisternError('IN_USE', `remote "${remote.name}" is still used by ${users.join(', ')}`);
      }
      await prisma.remote.delete({ where: { id: remote.id } });
    },
  };
}
