export { UpstreamClient, type UpstreamClientOptions } from './client.ts';
export { UpstreamError, isUpstreamError, type UpstreamErrorCode } from './errors.ts';
export type { BlobDestination, GetBlobOptions, UpstreamBlob } from './blobs.ts';
export type { FetchedManifest, ManifestInfo } from './manifests.ts';
export type { ListReferrersOptions, ReferrerDescriptor, Referrers } from './referrers.ts';
export type { RequestEvent, RequestHooks, RequestStats } from './request.ts';
export type { RateLimitInfo } from './retry.ts';
export type { TagListOptions } from './tags.ts';
export { parseWwwAuthenticate, type Challenge } from './challenge.ts';
