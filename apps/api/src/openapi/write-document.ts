// `npm run openapi` (and the build): writes the API's OpenAPI document to apps/api/openapi.json.
import { writeFileSync } from 'node:fs';
import { apiDocument, serializeDocument } from './api-document.ts';

const target = new URL('../../openapi.json', import.meta.url);
writeFileSync(target, serializeDocument(apiDocument()));
process.stdout.write(`wrote ${target.pathname}\n`);
