import { catalogPage, type Caller } from '@cistern/registry-core';
import type { Request, Response } from 'express';
import { nextLink, queryString } from '../link-header.ts';
import type { RegistryServices } from '../registry-services.ts';

/** GET /v2/_catalog: the repository names the caller may pull (public ones, and private ones its token grants), paged by `n` and `last`. */
export async function listCatalog(req: Request, res: Response, services: RegistryServices, caller: Caller): Promise<void> {
  const n = queryString(req.query['n']);
  const page = await catalogPage(services.directory, services.auth, caller, { n, last: queryString(req.query['last']) });
  if (page.next !== undefined) res.set('link', nextLink('/v2/_catalog', { n, last: page.next }));
  res.json({ repositories: page.items });
}
