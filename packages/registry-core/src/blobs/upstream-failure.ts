import { isUpstreamError } from '@cistern/upstream';
import { RegistryError } from '../errors/registry-error.ts';

/** How an on-demand fetch that failed before its first byte answers the client. */
export function upstreamFailure(error: unknown, digest: string): RegistryError {
  if (!isUpstreamError(error)) return new RegistryError('UNKNOWN', 'fetching the blob failed', { cause: error });
  switch (error.code) {
    case 'BLOB_UNKNOWN':
    case 'NAME_UNKNOWN':
      return new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry (the remote no longer has it)', { detail: { digest }, cause: error });
    case 'TOOMANYREQUESTS':
      return new RegistryError('TOOMANYREQUESTS', 'the remote is rate-limiting; try again later', { detail: { digest }, cause: error });
    default:
      return new RegistryError('UNAVAILABLE', `the remote could not deliver the blob (${error.code})`, { detail: { digest }, cause: error });
  }
}
