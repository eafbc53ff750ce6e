import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { OciError, type OciErrorCode } from '../src/index.ts';

export function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

export function fixtureJson(name: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(fixture(name)).toString('utf8')) as Record<string, unknown>;
}

export const bytesOf = (value: unknown): Uint8Array => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

/** Runs `fn`, expecting an OciError with this code (and field, when given); returns it. */
export function expectOciError(fn: () => unknown, code: OciErrorCode, field?: string): OciError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(OciError);
  const error = thrown as OciError;
  expect({ code: error.code, message: error.message }).toMatchObject({ code });
  if (field !== undefined) {
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  }
  return error;
}
