import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, evaluatePolicy, OciError, parseManifest, referrerDescriptor } from '../src/index.ts';
import { bytesOf, fixture } from './helpers.ts';

const files = readdirSync(new URL('./fixtures/', import.meta.url)).filter((f) => f.endsWith('.json'));
const documents = files.map((f) => JSON.parse(Buffer.from(fixture(f)).toString('utf8')) as unknown);

/** Parses and exercises what callers do next; anything but success or an OciError fails the property. */
function neverCrashes(bytes: Uint8Array): void {
  try {
    const parsed = parseManifest(bytes);
    evaluatePolicy(parsed, { artifacts: false, allow: ['*/*'], deny: ['application/x-*'] });
    evaluatePolicy(parsed, DEFAULT_POLICY);
    referrerDescriptor(parsed);
  } catch (error) {
    if (!(error instanceof OciError)) throw error;
  }
}

/** A path into a JSON value, chosen by a list of random picks. */
function mutate(doc: unknown, picks: number[], replacement: unknown, remove: boolean): unknown {
  const root = structuredClone(doc);
  let parent: unknown = undefined;
  let key: string | number | undefined = undefined;
  let node: unknown = root;
  for (const pick of picks) {
    if (typeof node !== 'object' || node === null) break;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node;
    key = keys[pick % keys.length];
    node = (node as Record<string | number, unknown>)[key as string];
  }
  if (parent === undefined || key === undefined) return replacement;
  const target = parent as Record<string | number, unknown>;
  if (remove && !Array.isArray(parent)) Reflect.deleteProperty(target, key);
  else target[key] = replacement;
  return root;
}

const docArb = fc.constantFrom(...documents);
const bytesArb = fc.constantFrom(...files).map(fixture);

describe('mutated manifests never crash the parser', () => {
  it('structural mutations: any field replaced by any JSON value, or removed', () => {
    fc.assert(
      fc.property(docArb, fc.array(fc.nat(), { maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), fc.boolean(), (doc, picks, value, remove) => {
        neverCrashes(bytesOf(mutate(doc, picks, value, remove)));
      }),
      { numRuns: 3_000 },
    );
  });

  it('byte mutations: flipped, inserted and deleted bytes, truncation', () => {
    const edit = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('set', 'insert', 'delete', 'truncate') });
    fc.assert(
      fc.property(bytesArb, fc.array(edit, { minLength: 1, maxLength: 4 }), (original, edits) => {
        let bytes = Buffer.from(original);
        for (const { at, byte, kind } of edits) {
          const i = at % Math.max(bytes.length, 1);
          if (kind === 'set') bytes[i] = byte;
          else if (kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
          else if (kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
          else bytes = bytes.subarray(0, i);
        }
        neverCrashes(bytes);
      }),
      { numRuns: 3_000 },
    );
  });

  it('a parse that succeeds digests the bytes it was given', () => {
    fc.assert(
      fc.property(docArb, fc.array(fc.nat(), { maxLength: 6 }), fc.string(), (doc, picks, value) => {
        const bytes = bytesOf(mutate(doc, picks, value, false));
        try {
          const parsed = parseManifest(bytes);
          if (parsed.kind !== 'docker-schema1-signed') expect(parsed.digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
          expect(parsed.bytes).toBe(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(OciError);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
