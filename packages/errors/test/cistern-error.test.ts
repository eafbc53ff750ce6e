import { describe, expect, it } from 'vitest';
import { CisternError, ERROR_CODES, isCisternError } from '../src/index.ts';

describe('CisternError', () => {
  it('carries a code from the one table, detail, retryable and cause', () => {
    const cause = new Error('disk full');
    const error = new CisternError('STORAGE_UNAVAILABLE', 'cannot write', { retryable: true, detail: { path: 'x' }, cause });
    expect(error.code).toBe('STORAGE_UNAVAILABLE');
    expect(ERROR_CODES[error.code]).toMatch(/storage/);
    expect(error.retryable).toBe(true);
    expect(error.detail).toEqual({ path: 'x' });
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
  });

  it('is not retryable unless it says so', () => {
    expect(new CisternError('BLOB_UNKNOWN', 'gone').retryable).toBe(false);
  });

  it('narrows by code', () => {
    const error: unknown = new CisternError('BLOB_UNKNOWN', 'gone');
    expect(isCisternError(error)).toBe(true);
    expect(isCisternError(error, 'BLOB_UNKNOWN', 'MANIFEST_UNKNOWN')).toBe(true);
    expect(isCisternError(error, 'MANIFEST_UNKNOWN')).toBe(false);
    expect(isCisternError(new Error('plain'))).toBe(false);
  });
});
