import { sealSecret } from '@cistern/config';
import type { Prisma, Remote as RemoteRow } from '@cistern/db';
import { normalizeUpstream } from '@cistern/oci';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { ApiError, notFound } from '../errors/api-error.ts';
import { pageArgs, toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, nameWhere, page } from '../schemas/common.ts';
import { Remote, RemoteInput, RemoteListQuery, RemotePatch, remoteShape } from '../schemas/remotes.ts';

const TAG = 'Remotes';

export function toRemote(row: RemoteRow): z.input<typeof Remote> {
  const { passwordEncrypted, ...fields } = row;
  return {
    ...fields,
    href: hrefOf('remotes', row.id),
    passwordSet: passwordEncrypted !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The editable fields of a stored remote, as a PATCH merges into them (the password stays write-only). */
function storedInput(row: RemoteRow): z.input<typeof RemoteInput> {
  const editable = Object.keys(remoteShape).filter((key) => key !== 'password') as (keyof RemoteRow)[];
  return Object.fromEntries(editable.map((key) => [key, row[key]])) as z.input<typeof RemoteInput>;
}

/**
 * Input → row data. `password`: undefined keeps the stored one, null clears
 * it, a string replaces it (sealed with AES-256-GCM under the secret key).
 */
function toData(ctx: ApiContext, input: RemoteInput, stored: RemoteRow | null): Prisma.RemoteCreateInput {
  const { password, ...fields } = input;
  const passwordEncrypted =
    password === undefined ? (stored?.passwordEncrypted ?? null) : password === null ? null : sealSecret(ctx.secretKey, password);
  if (passwordEncrypted !== null && !fields.username) {
    throw new ApiError('VALIDATION_FAILED', 'the request body is invalid', [{ path: 'body.username', message: 'a password needs a username' }]);
  }
  const upstreamName = normalizeUpstream(fields.url, fields.upstreamName).name;
  return { ...fields, url: fields.url.replace(/\/+$/, ''), upstreamName, passwordEncrypted };
}

async function findRemote(ctx: ApiContext, id: string): Promise<RemoteRow> {
  const row = await ctx.prisma.remote.findUnique({ where: { id } });
  if (!row) throw notFound('remote', id);
  return row;
}

export function remoteRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/remotes', tag: TAG, summary: 'List remotes', query: RemoteListQuery, status: 200, response: page(Remote) },
    async ({ query, req }) => {
      const where: Prisma.RemoteWhereInput = { ...nameWhere(query), policy: query.policy, url: query.url };
      const [count, rows] = await Promise.all([
        ctx.prisma.remote.count({ where }),
        ctx.prisma.remote.findMany({ where, orderBy: { name: 'asc' }, ...pageArgs(query) }),
      ]);
      return toPage(req, query, count, rows.map(toRemote));
    },
  );
  routes.add(
    { method: 'post', path: '/remotes', tag: TAG, summary: 'Create a remote', body: RemoteInput, status: 201, response: Remote, errors: ['ALREADY_EXISTS'] },
    async ({ body }) => toRemote(await ctx.prisma.remote.create({ data: toData(ctx, body, null) })),
  );
  routes.add(
    { method: 'get', path: '/remotes/{id}', tag: TAG, summary: 'Show a remote', params: IdParams, status: 200, response: Remote },
    async ({ params }) => toRemote(await findRemote(ctx, params.id)),
  );
  routes.add(
    {
      method: 'put',
      path: '/remotes/{id}',
      tag: TAG,
      summary: 'Replace a remote',
      description: 'Fields left out take their defaults, except `password`, which is kept unless given (null clears it).',
      params: IdParams,
      body: RemoteInput,
      status: 200,
      response: Remote,
      errors: ['ALREADY_EXISTS'],
    },
    async ({ params, body }) => {
      const stored = await findRemote(ctx, params.id);
      return toRemote(await ctx.prisma.remote.update({ where: { id: stored.id }, data: toData(ctx, body, stored) }));
    },
  );
  routes.add(
    { method: 'patch', path: '/remotes/{id}', tag: TAG, summary: 'Update part of a remote', params: IdParams, body: RemotePatch, status: 200, response: Remote, errors: ['ALREADY_EXISTS'] },
    async ({ params, body }) => {
      const stored = await findRemote(ctx, params.id);
      const merged = RemoteInput.parse({ ...storedInput(stored), ...body });
      return toRemote(await ctx.prisma.remote.update({ where: { id: stored.id }, data: toData(ctx, merged, stored) }));
    },
  );
  routes.add(
    { method: 'delete', path: '/remotes/{id}', tag: TAG, summary: 'Delete a remote', params: IdParams, status: 204, errors: ['IN_USE'] },
    async ({ params }) => {
      const remote = await findRemote(ctx, params.id);
      const [repositories, schedules] = await Promise.all([
        ctx.prisma.repository.findMany({ where: { remoteId: remote.id }, select: { name: true }, take: 5 }),
        ctx.prisma.schedule.findMany({ where: { remoteId: remote.id }, select: { name: true }, take: 5 }),
      ]);
      if (repositories.length > 0 || schedules.length > 0) {
        const users = [...repositories.map((r) => `repository "${r.name}"`), ...schedules.map((s) => `schedule "${s.name}"`)];
        throw new ApiError('IN_USE', `remote "${remote.name}" is still used by ${users.join(', ')}`);
      }
      await ctx.prisma.remote.delete({ where: { id: remote.id } });
    },
  );
}
