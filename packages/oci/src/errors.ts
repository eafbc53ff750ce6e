import { CisternError } from '@cistern/errors';

/**
 * Every way this package refuses input, in one place, each a code of
 * `ERROR_CODES` (OciError's base class checks it). Callers branch on
 * `code`; `field` is the JSON path of the offending value when there is one
 * (`layers[0].digest`, `annotations["org.example"]`), and the message always
 * names it.
 *
 * At the Distribution API, every code thrown by `parseManifest` means
 * `MANIFEST_INVALID` except `MANIFEST_TOO_LARGE` (413); the name and
 * reference codes mean `NAME_INVALID`, and `DIGEST_INVALID` from
 * `parseDigest` means `DIGEST_INVALID`.
 */
export type OciErrorCode =
  /** Not `algorithm:encoded`, an algorithm other than sha256/sha512, wrong length or uppercase hex. */
  | 'DIGEST_INVALID'
  /** The bytes are not UTF-8 JSON (truncated, trailing garbage, bad escapes, ...). */
  | 'JSON_INVALID'
  /** Valid JSON whose top level is not an object. */
  | 'JSON_NOT_OBJECT'
  /** An object repeats a key: parsers disagree on which one wins. */
  | 'DUPLICATE_KEY'
  /** A number a JavaScript number cannot hold exactly (an integer above 2^53 − 1, or an overflow). */
  | 'NUMBER_UNSAFE'
  /** Nesting deeper than any manifest needs. */
  | 'JSON_TOO_DEEP'
  /** A `__proto__` key: harmless to JSON, a prototype-pollution vector to every naive consumer. */
  | 'FORBIDDEN_KEY'
  /** The document is larger than the configured limit. */
  | 'MANIFEST_TOO_LARGE'
  /** A required field is missing or has the wrong JSON type, or a rule without its own code failed. */
  | 'MANIFEST_INVALID'
  /** `schemaVersion` is not the one the kind requires (2, or 1 for Docker schema 1). */
  | 'SCHEMA_VERSION_INVALID'
  /** A descriptor size is negative or not an integer. */
  | 'SIZE_INVALID'
  /** A media type (or artifact type) is not RFC 6838. */
  | 'MEDIA_TYPE_INVALID'
  /** A descriptor's `data` is not base64 or does not match its digest and size. */
  | 'DATA_MISMATCH'
  /** A manifest whose config is the empty descriptor has no `artifactType`. */
  | 'ARTIFACT_TYPE_REQUIRED'
  /** A descriptor of the empty type whose digest or size is not that of `{}`. */
  | 'EMPTY_DESCRIPTOR_INVALID'
  /** A signed schema-1 manifest whose JWS signatures do not describe a payload. */
  | 'SIGNATURE_INVALID'
  /** The document declares (or the shape and Content-Type give) no manifest media type. */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** A repository name outside the Distribution grammar. */
  | 'NAME_INVALID'
  /** A tag outside the Distribution grammar. */
  | 'TAG_INVALID'
  /** A `name[:tag][@digest]` reference that does not parse. */
  | 'REFERENCE_INVALID'
  /** A registry URL that is not an absolute http(s) URL. */
  | 'URL_INVALID';

/** A refused digest, name or manifest; `field` is the JSON path of the offending value, if any. */
export class OciError extends CisternError<OciErrorCode> {
  override readonly name = 'OciError';
  readonly field: string | undefined;

  constructor(code: OciErrorCode, message: string, field?: string) {
    super(code, field === undefined ? message : `${field}: ${message}`);
    this.field = field;
  }
}
