import type { ContentRequest } from '../registry-services.ts';

/** GET|HEAD /v2/<name>/manifests/<reference>: the stored bytes, verbatim. */
export async function getManifest({ req, res, content }: ContentRequest, reference: string): Promise<void> {
  const manifest = await content.manifest(reference, req.headers.accept);
  res.writeHead(200, {
    'content-type': manifest.mediaType,
    'content-length': manifest.bytes.length,
    'docker-content-digest': manifest.digest,
    etag: `"${manifest.digest}"`,
  });
  res.end(req.method === 'HEAD' ? undefined : manifest.bytes);
}
