import { queryString, nextLink } from '../link-header.ts';
import type { ContentRequest } from '../registry-services.ts';

/** GET /v2/<name>/tags/list[?n=&last=]: lexical order, `Link` on a partial page. */
export async function listTags({ req, res, name, content }: ContentRequest): Promise<void> {
  const n = queryString(req.query['n']);
  const page = await content.tags({ n, last: queryString(req.query['last']) });
  if (page.next !== undefined) res.set('link', nextLink(`/v2/${name}/tags/list`, { n, last: page.next }));
  res.json({ name, tags: page.items });
}
