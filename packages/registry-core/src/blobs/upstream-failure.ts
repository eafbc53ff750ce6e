import { isUpstreamError } from '@cistern/upstream';
import { RegistryError } from '../errors/registry-error.ts';

/** What an upstream fetch was for: the object's kind, and what the error's detail names it by. */
export type FetchedObject = { blob: string } | { manifest: string };

/**
 * How an upstream fetch that failed before its first byte answers the client:
 * gone upstream is BLOB_UNKNOWN / MANIFEST_UNKNOWN, a rate limit
 * TOOMANYREQUESTS, anything else UNAVAILABLE naming the upstream's code.
 */
export function upstreamFailure(error: unknown, object: FetchedObject): RegistryError {
  const kind = 'blob' in object ? 'blob' : 'manifest';
  const detail = 'blob' in object ? { digest: object.blob } : { reference: object.manifest };
  if (!isUpstreamError(error)) return new RegistryError('UNKNOWN', `fetching the ${kind} failed`, { cause: error });
  switch (error.code) {
    case 'BLOB_UNKNOWN':
    case 'MANIFEST_UNKNOWN':
    case 'NAME_UNKNOWN':
      return new RegistryError(kind === 'blob' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN', `${kind} unknown to registry (the remote does not have it)`, {
        detail,
        cause: error,
      });
    case 'TOOMANYREQUESTS':
      return new RegistryError('TOOMANYREQUESTS', 'the remote is rate-limiting; try again later', { detail, cause: error });
    default:
      return new RegistryError('UNAVAILABLE', `the remote could not deliver the ${kind} (${error.code})`, { detail, cause: error });
  }
}
