import { digestOf, type DigestAlgorithm } from './digest.ts';
import { schema1Payload } from './jws.ts';

/**
 * The digest of manifest bytes as registries compute it: over the JWS payload
 * for a signed schema 1 manifest, over the bytes themselves for everything
 * else. Whether a manifest is signed schema 1 is decided by its bytes
 * (`schemaVersion: 1` with `signatures`), never by the Content-Type it came
 * with, as Distribution does: registries label such manifests `v1+json` or
 * `application/json` too. Throws OciError (SIGNATURE_INVALID) when the
 * signatures do not describe one payload.
 */
export function manifestDigest(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  const signatures = schema1Signatures(bytes);
  return digestOf(signatures ? schema1Payload(bytes, signatures) : bytes, algorithm);
}

const SIGNATURES = Buffer.from('"signatures"');

function schema1Signatures(bytes: Uint8Array): { protected: string }[] | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Nearly every manifest is not schema 1: skip the parse unless the key is there at all.
  if (!buffer.includes(SIGNATURES)) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(buffer.toString('utf8'));
  } catch {
    return undefined;
  }
  const { schemaVersion, signatures } = (document ?? {}) as { schemaVersion?: unknown; signatures?: unknown };
  if (schemaVersion !== 1 || !Array.isArray(signatures)) return undefined;
  return signatures.map((s: unknown) => ({ protected: String((s as { protected?: unknown } | null)?.protected ?? '') }));
}
