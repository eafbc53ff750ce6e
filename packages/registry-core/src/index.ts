export { RegistryError, toRegistryError, type RegistryErrorCode, type RegistryErrorOptions } from './errors/registry-error.ts';
export { Lru, LoadingCache } from './cache/lru.ts';
export {
  DistributionDirectory,
  type DistributionDirectoryOptions,
  type PullThroughSettings,
  type Route,
  type ServedDistribution,
} from './distributions/distribution-directory.ts';
export { catalogPage, type ReadCheck } from './distributions/catalog-page.ts';
export { RegistryContent, type RegistryContentOptions, type ReferrersPage, type ServedContent } from './versions/registry-content.ts';
export { DatabaseManifestStore, type ManifestStore, type StoredManifest, type IndexChild } from './versions/manifest-store.ts';
export { acceptedTypes, negotiate, type Negotiated } from './versions/negotiation.ts';
export { pageOf, pageSize, MAX_PAGE, type Page, type PageRequest } from './versions/paging.ts';
export { loadVersionSnapshot, byteOrder, type VersionSnapshot } from './versions/version-snapshot.ts';
export { OnDemandBlobReader, type OnDemandOptions } from './blobs/on-demand-blob-reader.ts';
export { RemoteSources, type ClientOverrides, type RemoteBlob, type RemoteSource, type RemoteSourcesOptions } from './blobs/remote-sources.ts';
export { PullTokens, grants, type AccessEntry, type IssuedToken, type PullTokenOptions, type TokenClaims } from './auth/pull-tokens.ts';
export { RegistryAuth, ANONYMOUS, type Caller, type ReadTarget } from './auth/registry-auth.ts';
export { parseScope, requestedScopes, type RequestedScope } from './auth/scopes.ts';
export { UpstreamLists, type UpstreamListsOptions } from './pull-through/upstream-lists.ts';
export { PullThroughCache, type PullThroughOptions } from './pull-through/pull-through-cache.ts';
export { PullThroughMarks } from './pull-through/pull-through-marks.ts';
export { CacheFlusher, type CacheFlusherOptions } from './pull-through/cache-flusher.ts';
export { CACHE_RETAIN_VERSIONS } from './pull-through/cache-repositories.ts';
