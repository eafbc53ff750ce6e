import type { Logger } from '@cistern/config';
import type { DistributionDirectory, PullThroughCache, RegistryAuth, RegistryContent, ServedContent, ServedDistribution } from '@cistern/registry-core';
import type { BlobReader } from '@cistern/storage';
import type { Request, Response } from 'express';

/** What the HTTP layer hands every request to: registry-core's services and storage's BlobReader. */
export interface RegistryServices {
  directory: DistributionDirectory;
  content: RegistryContent;
  /** Pull-through names: fetched upstream on a miss, served from their cache repositories. */
  pullThrough: PullThroughCache;
  /** The store, or the on-demand decorator over it: requests never know which. */
  blobs: BlobReader;
  auth: RegistryAuth;
  logger: Logger;
}

/** A request for content under one distribution, after name, method and access checks. */
export interface ContentRequest {
  req: Request;
  res: Response;
  services: RegistryServices;
  distribution: ServedDistribution;
  /** The repository name asked for: what links name. */
  name: string;
  /** What the name serves: a repository version, or a pull-through cache; routes never know which. */
  content: ServedContent;
}
