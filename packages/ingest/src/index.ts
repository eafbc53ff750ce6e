export { ingestBlob, type IngestedBlob, type IngestOptions, type IngestTarget } from './ingest-blob.ts';
export { StoredMarks } from './stored-marks.ts';
export { isBlobEntry, isForeign, manifestBlobs, schema1Sizes, toManifestRecord, type ManifestBlob } from './manifest-record.ts';
export { recordRemoteArtifacts, type ArtifactSource } from './remote-artifacts.ts';
export { createTagFilter, type TagFilter } from './tag-filter.ts';
