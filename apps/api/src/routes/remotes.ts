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

/** Percent-decoded userinfo, or as written when it does not decode. */
function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * The stored proxy settings as the API shows and merges them. A proxyUrl
 * stored before proxy credentials had fields of their own may still carry
 * `user:password@`: it is split here so that no reply shows them and the
 * next PATCH stores them encrypted.
 */
function proxySettings(row: RemoteRow): { proxyUrl: string | null; proxyUsername: string | null; proxyPassword?: string } {
  const url = row.proxyUrl === null ? null : URL.parse(row.proxyUrl);
  if (!url || (url.username === '' && url.password === '')) return { proxyUrl: row.proxyUrl, proxyUsername: row.proxyUsername };
  const proxyUsername = row.proxyUsername ?? decodeUserinfo(url.username);
  const proxyPassword = decodeUserinfo(url.password);
  url.username = '';
  url.password = '';
  return { proxyUrl: url.href, proxyUsername, ...(proxyPassword ? { proxyPassword } : {}) };
}

export function toRemote(row: RemoteRow): z.input<typeof Remote> {
  const { passwordEncrypted, proxyPasswordEncrypted, ...fields } = row;
  const { proxyPassword, ...proxy } = proxySettings(row);
  return {
    ...fields,
    ...proxy,
    href: hrefOf('remotes', row.id),
    passwordSet: passwordEncrypted !== null,
    proxyPasswordSet: proxyPasswordEncrypted !== null || proxyPassword !== undefined,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The editable fields of a stored remote, as a PATCH merges into them (the passwords stay write-only). */
function storedInput(row: RemoteRow): z.input<typeof RemoteInput> {
  const editable = Object.keys(remoteShape).filter((key) => key !== 'password' && key !== 'proxyPassword') as (keyof RemoteRow)[];
  return { ...Object.fromEntries(editable.map((key) => [key, row[key]])), ...proxySettings(row) } as z.input<typeof RemoteInput>;
}

/** A write-only secret: undefined keeps the stored ciphertext, null clears it, a string replaces it (AES-256-GCM under the secret key). */
function sealed(ctx: ApiContext, given: string | null | undefined, stored: string | null | undefined): string | null {
  if (given === undefined) return stored ?? null;
  return given === null ? null : sealSecret(ctx.secretKey, given);
}

/** Input → row data; a stored password that would be left without its user name is refused. */
function toData(ctx: ApiContext, input: RemoteInput, stored: RemoteRow | null): Prisma.RemoteCreateInput {
  const { password, proxyPassword, ...fields } = input;
  const passwordEncrypted = sealed(ctx, password, stored?.passwordEncrypted);
  const proxyPasswordEncrypted = sealed(ctx, proxyPassword, stored?.proxyPasswordEncrypted);
  const orphaned = [
    ...(passwordEncrypted !== null && !fields.username ? [{ path: 'body.username', message: 'a password needs a username' }] : []),
    ...(proxyPasswordEncrypted !== null && !fields.proxyUsername ? [{ path: 'body.proxyUsername', message: 'a proxyPassword needs a proxyUsername' }] : []),
  ];
  if (orphaned.length > 0) throw new ApiError('VALIDATION_FAILED', 'the request body is invalid', orphaned);
  const upstreamName = normalizeUpstream(fields.url, fields.upstreamName).name;
  return { ...fields, url: fields.url.replace(/\/+$/, ''), upstreamName, passwordEncrypted, proxyPasswordEncrypted };
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
      description: 'Fields left out take their defaults, except `password` and `proxyPassword`, which are kept unless given (null clears them).',
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
