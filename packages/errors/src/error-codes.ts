/**
 * Every code a Cistern error carries, in one table: the code and what it
 * means. Packages throw `CisternError`s (or subclasses) with these codes; the
 * two HTTP edges (API, registry) each keep their own code → status table and
 * are the only places that write error bodies. Where the Distribution
 * specification names a code (distribution-spec v1.1 "Error Codes"), that
 * name is used.
 */
export const ERROR_CODES = {
  // Digests, names, references (image-spec "Digests", distribution-spec "Pulling manifests").
  DIGEST_INVALID: 'not `algorithm:encoded` with a known algorithm and well-formed hex',
  DIGEST_MISMATCH: 'the bytes do not hash to the digest they were fetched or stored under',
  NAME_INVALID: 'a repository name outside the Distribution grammar',
  TAG_INVALID: 'a tag outside the Distribution grammar',
  REFERENCE_INVALID: 'a `name[:tag][@digest]` reference that does not parse',
  URL_INVALID: 'a registry URL that is not an absolute http(s) URL',

  // Manifests (image-spec v1.1): structure is strict, media types are policy.
  JSON_INVALID: 'the bytes are not UTF-8 JSON',
  JSON_NOT_OBJECT: 'valid JSON whose top level is not an object',
  DUPLICATE_KEY: 'an object repeats a key',
  NUMBER_UNSAFE: 'a number a JavaScript number cannot hold exactly',
  JSON_TOO_DEEP: 'nesting deeper than any manifest needs',
  FORBIDDEN_KEY: 'a `__proto__` key',
  MANIFEST_TOO_LARGE: 'the document is larger than the configured limit',
  MANIFEST_INVALID: 'a required field is missing or has the wrong type',
  SCHEMA_VERSION_INVALID: '`schemaVersion` is not the one the kind requires',
  SIZE_INVALID: 'a size is negative, not an integer, or not the size of the bytes',
  MEDIA_TYPE_INVALID: 'a media type that is not RFC 6838',
  DATA_MISMATCH: "a descriptor's `data` does not match its digest and size",
  ARTIFACT_TYPE_REQUIRED: 'an empty-config manifest without `artifactType`',
  EMPTY_DESCRIPTOR_INVALID: 'an empty descriptor whose digest or size is not that of `{}`',
  SIGNATURE_INVALID: 'a signed schema-1 manifest whose signatures describe no payload',
  UNSUPPORTED_MEDIA_TYPE: 'no manifest media type, or one this operation does not take',

  // Content that is not there.
  BLOB_UNKNOWN: 'no blob with this digest',
  MANIFEST_UNKNOWN: 'no manifest with this digest or tag',
  NAME_UNKNOWN: 'no repository (or distribution) with this name',
  TAG_UNKNOWN: 'no tag with this name',
  REPOSITORY_UNKNOWN: 'no repository with this id',
  VERSION_UNKNOWN: 'no repository version with this number',
  REMOTE_UNKNOWN: 'no remote with this id',
  UPSTREAM_NAME_MISSING: 'a sync of a remote of many repositories into a repository that names no upstream repository',
  NOT_FOUND: 'no resource with this id',

  // Storage.
  BLOB_UPLOAD_INVALID: 'a blob writer was abandoned before its last byte',
  RANGE_INVALID: 'a byte range outside the blob',
  STORAGE_UNAVAILABLE: 'the backing storage cannot be read or written',

  // Upstream registries.
  UNAUTHORIZED: 'authentication is required or was refused',
  DENIED: 'authenticated, but not allowed',
  TOOMANYREQUESTS: 'rate-limited',
  INVALID_RESPONSE: 'an upstream answered something no registry should',
  UPSTREAM_UNAVAILABLE: 'an upstream cannot be reached or answered 5xx',
  UPSTREAM_ERROR: 'an upstream failed in a way no other code describes',

  // Domain rules.
  VALIDATION_FAILED: 'the input breaks a rule of the resource',
  ALREADY_EXISTS: 'a resource with this name or path already exists',
  IN_USE: 'another resource refers to this one',
  INVALID_REFERENCE: 'the input names, by id, a resource that does not exist',
  VERSION_PROTECTED: 'the latest version, version 0 and pinned versions cannot be deleted',
  NO_REMOTE: 'the repository has no remote to sync from',
  TAG_TARGET_MISSING: 'a tag points at a manifest that is not stored',
  TOKEN_INVALID: 'a token request that breaks a rule of tokens',

  // Tasks.
  TASK_STATE_CONFLICT: 'the task is not in a state that allows this',
  TASK_PARAMS_INVALID: "a job's parameters do not parse",
  UNKNOWN_TASK_KIND: 'no handler for this task kind',
  CANCELED: 'the task was canceled',
  LOCK_LOST: 'the repository lock was lost while the task ran',
  NOTHING_SELECTED: 'the filters select no tag',
  NOTHING_MIRRORED: 'a mirror sync got nothing and keeps the previous version',
  REFERRERS_UNLISTED: 'referrers could not be listed',
  CONTENT_FAILED: 'some content could not be fetched',
  WORKER_DIED: 'the worker running the task died',
  WORKER_LOST: 'the worker running the task stopped renewing it',
  WORKER_STOPPING: 'the worker is shutting down; the task waits for the next one',
  JOB_FAILED: 'the queue gave up on the job',
  ENQUEUE_FAILED: 'the job could not be enqueued',

  // Processes and their services.
  CONFIG_INVALID: 'an environment variable is missing or malformed',
  DATABASE_UNAVAILABLE: 'the database cannot be reached or opened',
  MIGRATION_FAILED: 'a schema migration failed',
  REDIS_UNAVAILABLE: 'Redis cannot be reached',
  INTERNAL_ERROR: 'a bug: anything not thrown on purpose',

  // The management API's own request errors (its wire codes).
  MALFORMED_JSON: 'a request body that is not a JSON object',
  MALFORMED_REQUEST: 'a request that is not well-formed HTTP: a bad path escape, a cut body, a lying encoding',
  PAYLOAD_TOO_LARGE: 'a request body larger than the API accepts',
  METHOD_NOT_ALLOWED: 'the path exists, but not with this method',
  FORBIDDEN: 'a valid token whose scope does not allow this',

  // The Distribution API's own codes (distribution-spec v1.1 and Distribution's errcode), as the registry answers.
  PAGINATION_NUMBER_INVALID: 'the `n` of a paginated list is not a non-negative integer',
  UNSUPPORTED: 'an operation this registry does not offer (it serves pulls only)',
  UNAVAILABLE: 'the registry cannot serve this now; try again later',
  UNKNOWN: "the registry's INTERNAL_ERROR as Distribution clients see it",
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_CODES;
