import { randomBytes } from 'node:crypto';
import type { RegistryContent } from './content.ts';
import { assembleMember, type ZooMember } from './member.ts';
import { startOrigin } from './origin.ts';
import { registryHandler, type TagPaging } from './registry.ts';

export interface QuayOptions {
  /** Tags per page, whatever `n` asks for. Default 50. */
  pageSize?: number;
}

/**
 * Quay: tag lists page by an opaque `next_page` token in `Link`
 * (`</v2/<name>/tags/list?n=50&next_page=<opaque>>; rel="next"`); `n` and
 * `last` are ignored, so a client that builds `last` itself loops on page one.
 */
export async function startQuay(content: RegistryContent, options: QuayOptions = {}): Promise<ZooMember> {
  const pageSize = options.pageSize ?? 50;
  const cursors = new Map<string, number>();
  const paging: TagPaging = (tags, url) => {
    const cursor = url.searchParams.get('next_page');
    const start = cursor === null ? 0 : (cursors.get(cursor) ?? tags.length);
    const page = tags.slice(start, start + pageSize);
    if (start + pageSize >= tags.length) return { page };
    const next = randomBytes(12).toString('base64url');
    cursors.set(next, start + pageSize);
    return { page, next: `${url.pathname}?n=${pageSize}&next_page=${next}` };
  };
  const registry = await startOrigin(registryHandler({ content, tagPaging: paging }));
  return assembleMember({ name: 'quay', auth: 'none', registry });
}
