import type { Request, Response } from 'express';
import type { RegistryServices } from '../registry-services.ts';

/** GET /token?service=&scope=: what docker, podman and skopeo call after a 401 challenge. */
export async function issueToken(req: Request, res: Response, services: RegistryServices): Promise<void> {
  const raw = req.query['scope'];
  const scopes = (Array.isArray(raw) ? raw : [raw]).filter((s): s is string => typeof s === 'string');
  const issued = await services.auth.issue(req.headers.authorization, scopes);
  res.set('cache-control', 'no-store');
  // Both names: Docker reads `token`, OAuth2 clients `access_token`.
  res.json({ token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt });
}
