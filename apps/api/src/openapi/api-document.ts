import { Router } from 'express';
import type { ApiContext } from '../context.ts';
import { registerRoutes } from '../routes/index.ts';
import type { OpenApiDocument } from './document.ts';

/** Route handlers are the only readers of the context, and none runs while the document is built. */
const NO_CONTEXT = new Proxy({} as ApiContext, {
  get(_target, key) {
    throw new Error(`the OpenAPI document is built without a running API, yet a route read context.${String(key)} while registering`);
  },
});

/** The document the API serves at /openapi.json, built without a database, Redis or a server. */
export function apiDocument(): OpenApiDocument {
  return registerRoutes(Router(), NO_CONTEXT).document;
}

/** The document as `npm run openapi` writes it to apps/api/openapi.json: two-space JSON and a final newline. */
export function serializeDocument(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
