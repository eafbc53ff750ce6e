import { sealSecret } from '@cistern/config';
import type { Prisma, Remote } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { normalizeUpstream } from '@cistern/oci';
import type { z } from 'zod';
import { remoteShape, type RemoteInput } from './remote-input.ts';
import { proxySettings } from './proxy-settings.ts';

/** A write-only secret: undefined keeps the stored ciphertext, null clears it, a string replaces it (AES-256-GCM under the secret key). */
function sealed(secretKey: Buffer, given: string | null | undefined, stored: string | null | undefined): string | null {
  if (given === undefined) return stored ?? null;
  return given === null ? null : sealSecret(secretKey, given);
}

/**
 * A remote's input as row data: passwords sealed, the URL without trailing
 * slashes, the upstream name normalized (Docker Hub's `library/`). Throws
 * VALIDATION_FAILED, with a detail per field, when a stored password would be
 * left without its user name.
 */
export function remoteData(secretKey: Buffer, input: RemoteInput, stored: Remote | null): Prisma.RemoteCreateInput {
  const { password, proxyPassword, ...fields } = input;
  const passwordEncrypted = sealed(secretKey, password, stored?.passwordEncrypted);
  const proxyPasswordEncrypted = sealed(secretKey, proxyPassword, stored?.proxyPasswordEncrypted);
  const orphaned = [
    ...(passwordEncrypted !== null && !fields.username ? [{ path: 'username', message: 'a password needs a username' }] : []),
    ...(proxyPasswordEncrypted !== null && !fields.proxyUsername ? [{ path: 'proxyUsername', message: 'a proxyPassword needs a proxyUsername' }] : []),
  ];
  if (orphaned.length > 0) throw new CisternError('VALIDATION_FAILED', 'the request body is invalid', { detail: orphaned });
  const upstreamName = fields.upstreamName === null ? null : normalizeUpstream(fields.url, fields.upstreamName).name;
  return { ...fields, url: fields.url.replace(/\/+$/, ''), upstreamName, passwordEncrypted, proxyPasswordEncrypted };
}

/** The editable fields of a stored remote, as a partial update merges into them (the passwords stay write-only). */
export function storedInput(row: Remote): z.input<typeof RemoteInput> {
  const editable = Object.keys(remoteShape).filter((key) => key !== 'password' && key !== 'proxyPassword') as (keyof Remote)[];
  return { ...Object.fromEntries(editable.map((key) => [key, row[key]])), ...proxySettings(row) } as z.input<typeof RemoteInput>;
}
