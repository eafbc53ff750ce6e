import { StorageError } from '@cistern/storage';
import { describe, expect, it } from 'vitest';
import { RegistryError, toRegistryError } from '../src/index.ts';

describe('toRegistryError', () => {
  it('keeps a RegistryError, its status from the table and its headers', () => {
    const challenge = new RegistryError('UNAUTHORIZED', 'authentication required', { headers: { 'www-authenticate': 'Bearer realm="r"' } });
    expect(toRegistryError(challenge)).toBe(challenge);
    expect(challenge.status).toBe(401);
    expect(new RegistryError('RANGE_INVALID', 'requested range not satisfiable').status).toBe(416);
  });

  it("answers anything else as UNKNOWN with a bare message, even another package's error whose code the table has", () => {
    const causes = [
      new StorageError('BLOB_UNKNOWN', 'blob sha256:abc is not stored'),
      new StorageError('STORAGE_UNAVAILABLE', 'cannot read /data/blobs/x'),
      new Error('bug'),
    ];
    for (const cause of causes) {
      const failure = toRegistryError(cause);
      expect(failure).toMatchObject({ status: 500, cause });
      expect(failure.toBody()).toEqual({ errors: [{ code: 'UNKNOWN', message: 'internal error' }] });
    }
  });
});
