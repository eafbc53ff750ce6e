import { queryString, nextLink } from '../link-header.ts';
import type { ContentRequest } from '../registry-services.ts';

/** GET /v2/<name>/tags/list[?n=&last=]: lexical order, `Link` on a partial page. */
export async function listTags({ req, res, services, distribution }: ContentRequest): Promise<void> {
  const n = queryString(req.query['n']);
  const page = await services.content.tags(distribution, { n, last: queryString(req.query['last']) });
  if (page.next !== undefined) res.set('link', nextLink(`/v2/${distribution.basePath}/tags/list`, { n, last: page.next }));
  res.json({ name: distribution.basePath, tags: page.items });
}
