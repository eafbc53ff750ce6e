import { OciError } from './errors.ts';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

interface ProtectedHeader {
  formatLength: number;
  formatTail: string;
}

/**
 * The payload of a signed schema-1 manifest, whose digest is the manifest's
 * digest. libtrust signs the pretty-printed manifest without its signatures:
 * each protected header records how many leading bytes of the served
 * document belong to the payload (`formatLength`) and the bytes that closed
 * it before `"signatures"` was spliced in (`formatTail`, base64url).
 * Signatures are not verified here (Distribution stopped trusting them long
 * ago); they must all describe the same payload.
 */
export function schema1Payload(bytes: Uint8Array, signatures: readonly { protected: string }[]): Uint8Array {
  let payload: Uint8Array | undefined;
  signatures.forEach((signature, i) => {
    const field = `signatures[${i}].protected`;
    const header = decodeHeader(signature.protected, field);
    if (header.formatLength > bytes.length) {
      throw new OciError('SIGNATURE_INVALID', `formatLength ${header.formatLength} exceeds the document`, field);
    }
    const candidate = Buffer.concat([bytes.subarray(0, header.formatLength), Buffer.from(header.formatTail, 'base64url')]);
    if (payload !== undefined && !Buffer.from(payload).equals(candidate)) {
      throw new OciError('SIGNATURE_INVALID', 'describes a different payload than signatures[0]', field);
    }
    payload = candidate;
  });
  if (payload === undefined) throw new OciError('SIGNATURE_INVALID', 'no signatures', 'signatures');
  return payload;
}

function decodeHeader(encoded: string, field: string): ProtectedHeader {
  if (!BASE64URL.test(encoded)) throw new OciError('SIGNATURE_INVALID', 'is not base64url', field);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new OciError('SIGNATURE_INVALID', 'is not base64url-encoded JSON', field);
  }
  const { formatLength, formatTail } = (header ?? {}) as Partial<Record<keyof ProtectedHeader, unknown>>;
  if (!Number.isSafeInteger(formatLength) || (formatLength as number) < 0) {
    throw new OciError('SIGNATURE_INVALID', 'formatLength is not a non-negative integer', field);
  }
  if (typeof formatTail !== 'string' || !BASE64URL.test(formatTail)) {
    throw new OciError('SIGNATURE_INVALID', 'formatTail is not a base64url string', field);
  }
  return { formatLength: formatLength as number, formatTail };
}
