import { pageOf, type Caller } from '@cistern/registry-core';
import type { Request, Response } from 'express';
import { nextLink, queryString } from '../link-header.ts';
import type { RegistryServices } from '../registry-services.ts';

/** GET /v2/_catalog: the base paths the caller may pull (public ones, and private ones its token grants). */
export async function listCatalog(req: Request, res: Response, services: RegistryServices, caller: Caller): Promise<void> {
  const visible = (await services.directory.list()).filter((d) => services.auth.mayRead(d, caller)).map((d) => d.basePath);
  const n = queryString(req.query['n']);
  const page = pageOf(visible, (p) => p, { n, last: queryString(req.query['last']) });
  if (page.next !== undefined) res.set('link', nextLink('/v2/_catalog', { n, last: page.next }));
  res.json({ repositories: page.items });
}
