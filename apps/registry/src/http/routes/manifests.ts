import type { ContentRequest } from '../registry-services.ts';

/** GET|HEAD /v2/<name>/manifests/<reference>: the stored bytes, verbatim. */
export async function getManifest({ req, res, services, distribution }: ContentRequest, reference: string): Promise<void> {
  const manifest = await services.content.manifest(distribution, reference, req.headers.accept);
  res.writeHead(200, {
    'content-type': manifest.mediaType,
    'content-length': manifest.bytes.length,
    'docker-content-digest': manifest.digest,
    etag: `"${manifest.digest}"`,
  });
  res.end(req.method === 'HEAD' ? undefined : manifest.bytes);
}
