/* eslint-disable @typescript-eslint/no-explicit-any -- the OpenAPI document is read as plain JSON */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { default as addFormats } from 'ajv-formats';
import { apiDocument } from '../src/openapi/api-document.ts';

const document: any = apiDocument();
// The document is one resource: its request schemas' $refs (#/components/schemas/…) resolve within it.
// strict: false, as the schema keywords OpenAPI adds (example, discriminator's mapping) are not JSON Schema's.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(document, 'openapi');

/** Each path template of the document as the URLs it matches, literal paths first (`/repositories/reclaim` before `/repositories/{id}`). */
const templates = Object.keys(document.paths)
  .map((path) => ({ path, params: (path.match(/\{/g) ?? []).length, pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`) }))
  .sort((a, b) => a.params - b.params);

const validators = new Map<string, ValidateFunction>();

/** The operation (`post /api/v1/remotes`) a request goes to, if it has a request body in the document. */
export function operationWithBody(method: string, url: string): string | undefined {
  const path = new URL(url, 'http://api').pathname;
  const verb = method.toLowerCase();
  return templates
    .filter(({ pattern }) => pattern.test(path))
    .map(({ path: template }) => template)
    .find((template) => document.paths[template][verb]?.requestBody)
    ?.replace(/^/, `${verb} `);
}

/**
 * The ways a request body breaks the document's schema of its operation,
 * checked by Ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses), or [] when it
 * conforms or the operation takes no body.
 */
export function documentErrors(method: string, url: string, body: unknown): string[] {
  const operation = operationWithBody(method, url);
  if (!operation) return [];
  let validate = validators.get(operation);
  if (!validate) {
    const [verb, template] = operation.split(' ') as [string, string];
    const pointer = ['paths', template, verb, 'requestBody', 'content', 'application/json', 'schema'].map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'));
    validate = ajv.getSchema(`openapi#/${pointer.join('/')}`);
    if (!validate) throw new Error(`no request schema for ${operation}`);
    validators.set(operation, validate);
  }
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${operation}: ${e.instancePath || '/'} ${e.message}`);
}

/** Every operation of the document that takes a request body. */
export function operationsWithBody(): string[] {
  return Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.requestBody)
      .map(([verb]) => `${verb} ${path}`),
  );
}
