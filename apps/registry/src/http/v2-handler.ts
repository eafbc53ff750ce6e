import { isRepositoryName } from '@cistern/oci';
import { ANONYMOUS, RegistryError } from '@cistern/registry-core';
import type { Request, RequestHandler, Response } from 'express';
import { queryString } from './link-header.ts';
import { parseRegistryPath } from './registry-path.ts';
import type { RegistryServices } from './registry-services.ts';
import { getBlob } from './routes/blobs.ts';
import { listCatalog } from './routes/catalog.ts';
import { getManifest } from './routes/manifests.ts';
import { listReferrers } from './routes/referrers.ts';
import { listTags } from './routes/tags.ts';

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Everything under /v2/: route by path, refuse writes (push does not exist
 * yet), check the name's grammar before any lookup, resolve the distribution
 * (exact base path, else pull-through prefix), check access, then hand over to
 * the route with what the name serves: a repository version, or a pull-through cache.
 */
export function v2Handler(services: RegistryServices): RequestHandler {
  return async (req: Request, res: Response) => {
    const path = parseRegistryPath(req.path);
    if (!path) throw new RegistryError('NAME_UNKNOWN', 'no such endpoint or repository', { detail: { path: req.path } });
    if (!READ_METHODS.has(req.method)) {
      throw new RegistryError('UNSUPPORTED', 'this registry serves pulls only', { detail: { method: req.method }, headers: { allow: 'GET, HEAD' } });
    }
    res.set('docker-distribution-api-version', 'registry/2.0');
    if (path.kind === 'base') {
      services.auth.assertToken(await services.auth.caller(req.headers.authorization));
      res.json({});
      return;
    }
    if (path.kind === 'catalog') {
      await listCatalog(req, res, services, await services.auth.catalogCaller(req.headers.authorization));
      return;
    }
    if (!isRepositoryName(path.name)) throw new RegistryError('NAME_INVALID', 'invalid repository name', { detail: { name: path.name } });
    const route = await services.directory.route(path.name, queryString(req.query['ns']));
    if (!route) throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name: path.name } });
    const { distribution } = route;
    // Only private distributions pay for token verification; access is checked before anything may reach an upstream.
    const caller = distribution.private ? await services.auth.caller(req.headers.authorization) : ANONYMOUS;
    services.auth.assertPull(route, caller);
    const content = route.upstreamName === null ? services.content.of(distribution) : services.pullThrough.of(route);
    const request = { req, res, services, distribution, name: route.name, content };
    switch (path.kind) {
      case 'manifest':
        return getManifest(request, path.reference);
      case 'blob':
        return getBlob(request, path.digest);
      case 'tags':
        return listTags(request);
      case 'referrers':
        return listReferrers(request, path.digest);
      case 'upload':
        throw new RegistryError('UNSUPPORTED', 'this registry serves pulls only', { headers: { allow: 'GET, HEAD' } });
    }
  };
}
