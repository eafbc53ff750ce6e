import { MediaType } from '@cistern/oci';
import { nextLink, queryString } from '../link-header.ts';
import type { ContentRequest } from '../registry-services.ts';

/** GET /v2/<name>/referrers/<digest>[?artifactType=]: always an image index, empty when nothing refers. */
export async function listReferrers({ req, res, name, content }: ContentRequest, digest: string): Promise<void> {
  const artifactType = queryString(req.query['artifactType']);
  const page = await content.referrers(digest, artifactType, queryString(req.query['last']));
  if (page.filtered) res.set('oci-filters-applied', 'artifactType');
  if (page.next !== undefined) res.set('link', nextLink(`/v2/${name}/referrers/${digest}`, { artifactType, last: page.next }));
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: page.items }));
  res.writeHead(200, { 'content-type': MediaType.OciIndex, 'content-length': body.length });
  res.end(body);
}
