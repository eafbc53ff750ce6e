import { isStorageError, type ByteRange } from '@cistern/storage';
import { blobError, unsatisfiable } from '../blob-errors.ts';
import { parseRange, suffixRange } from '../range-header.ts';
import type { ContentRequest } from '../registry-services.ts';

/** GET|HEAD /v2/<name>/blobs/<digest>: streamed, with single byte ranges. */
export async function getBlob(request: ContentRequest, digest: string): Promise<void> {
  try {
    await serveBlob(request, digest);
  } catch (error) {
    throw await blobError(error, digest, request.services.blobs);
  }
}

async function serveBlob({ req, res, services, content }: ContentRequest, digest: string): Promise<void> {
  await content.assertBlob(digest);
  const common = { 'docker-content-digest': digest, 'accept-ranges': 'bytes', etag: `"${digest}"`, 'content-type': 'application/octet-stream' };
  if (req.method === 'HEAD') {
    const { size } = await services.blobs.stat(digest);
    res.writeHead(200, { ...common, 'content-length': size });
    res.end();
    return;
  }
  const parsed = parseRange(req.headers.range);
  let range: ByteRange | undefined;
  if (parsed.kind === 'range') range = parsed.range;
  if (parsed.kind === 'suffix') {
    const { size } = await services.blobs.stat(digest);
    range = suffixRange(parsed.length, size) ?? undefined;
    if (!range) throw unsatisfiable(size);
  }
  const blob = await services.blobs.open(digest, range);
  if (range) {
    const last = blob.offset + blob.length - 1;
    res.writeHead(206, { ...common, 'content-length': blob.length, 'content-range': `bytes ${blob.offset}-${last}/${blob.size}` });
  } else {
    res.writeHead(200, { ...common, 'content-length': blob.length });
  }
  // A client that leaves early fails the transfer, which releases the file (or detaches
  // from a download). The socket's close also ends a response queued behind a pipelined
  // one, which is never told its client left.
  const left = new AbortController();
  const socket = req.socket;
  const onClose = () => left.abort();
  socket.once('close', onClose);
  try {
    await blob.writeTo(res, left.signal);
  } catch (error) {
    if (isStorageError(error) && !left.signal.aborted) services.logger.warn({ err: error, digest }, 'could not serve a stored blob');
  } finally {
    socket.off('close', onClose);
  }
}
