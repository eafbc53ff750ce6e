import type { ByteRange } from '@cistern/storage';

/**
 * A single `bytes=` range, resolved against the blob size when it is a
 * suffix (`bytes=-N`). Anything else (several ranges, other units, bad
 * syntax) is ignored and the whole blob is served, as RFC 9110 allows.
 * Returns 'unsatisfiable' for a range that selects nothing.
 */
export type ParsedRange = { kind: 'none' } | { kind: 'range'; range: ByteRange } | { kind: 'suffix'; length: number };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

export function parseRange(header: string | undefined): ParsedRange {
  if (header === undefined) return { kind: 'none' };
  const match = SINGLE.exec(header.trim());
  if (!match) return { kind: 'none' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'none' };
  if (first === '') return { kind: 'suffix', length: Number(last) };
  const start = Number(first);
  const end = last === '' ? undefined : Number(last);
  if (!Number.isSafeInteger(start) || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) return { kind: 'none' };
  return { kind: 'range', range: end === undefined ? { start } : { start, end } };
}

/** The range a suffix asks for in a blob of `size` bytes; null when it selects nothing. */
export function suffixRange(length: number, size: number): ByteRange | null {
  if (length === 0 || size === 0) return null;
  return { start: Math.max(0, size - length) };
}
