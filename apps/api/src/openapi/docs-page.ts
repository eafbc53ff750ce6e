import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';

// Swagger UI's own files, from the swagger-ui-dist package: the page works with no network.
const assetsDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Cistern management API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true, persistAuthorization: true });`;

/** `/docs`: an interactive reference of /openapi.json (try requests with a Bearer token). */
export function docsRouter(): Router {
  const router = Router();
  router.use('/docs/assets', express.static(assetsDir, { index: false, maxAge: '1d' }));
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });
  return router;
}
