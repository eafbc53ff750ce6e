export { ingestBlob, type IngestedBlob, type IngestOptions, type IngestTarget } from './ingest-blob.ts';
export { StoredMarks } from './stored-marks.ts';
