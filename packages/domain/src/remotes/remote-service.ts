import type { PrismaClient, Remote, SyncPolicy } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { notFound } from '../shared/not-found.ts';
import { listPage, pageArgs, type Page, type PageRequest } from '../shared/paging.ts';
import { remoteData, storedInput } from './remote-data.ts';
import { RemoteInput, type RemotePatch } from './remote-input.ts';
import { viewRemote, type RemoteView } from './remote-view.ts';

export interface RemoteFilter extends NameFilter {
  policy?: SyncPolicy;
  url?: string;
}

/**
 * Remotes: where and how to fetch. Passwords are sealed at rest and never
 * leave this service; every remote comes back as a RemoteView. Unknown ids
 * throw NOT_FOUND; input errors VALIDATION_FAILED (ZodError for a partial
 * update that leaves an invalid remote); a taken name is the database's
 * unique violation.
 */
export interface RemoteService {
  /** Ordered by name. */
  list(filter: RemoteFilter, page: PageRequest): Promise<Page<RemoteView>>;
  get(id: string): Promise<RemoteView>;
  create(input: RemoteInput): Promise<RemoteView>;
  /** Every field from `input` (defaults included), except passwords left out, which are kept. */
  replace(id: string, input: RemoteInput): Promise<RemoteView>;
  /** The given fields over the stored ones, checked as a whole remote. */
  update(id: string, patch: RemotePatch): Promise<RemoteView>;
  /** IN_USE while a repository or a schedule names it. */
  delete(id: string): Promise<void>;
}

export function remoteService({ prisma, secretKey }: { prisma: PrismaClient; secretKey: Buffer }): RemoteService {
  const find = async (id: string): Promise<Remote> => {
    const row = await prisma.remote.findUnique({ where: { id } });
    if (!row) throw notFound('remote', id);
    return row;
  };
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
      const [repositories, schedules] = await Promise.all([
        prisma.repository.findMany({ where: { remoteId: remote.id }, select: { name: true }, take: 5 }),
        prisma.schedule.findMany({ where: { remoteId: remote.id }, select: { name: true }, take: 5 }),
      ]);
      if (repositories.length > 0 || schedules.length > 0) {
        const users = [...repositories.map((r) => `repository "${r.name}"`), ...schedules.map((s) => `schedule "${s.name}"`)];
        throw new CisternError('IN_USE', `remote "${remote.name}" is still used by ${users.join(', ')}`);
      }
      await prisma.remote.delete({ where: { id: remote.id } });
    },
  };
}
