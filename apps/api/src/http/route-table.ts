import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Principal } from '@cistern/auth';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { ApiError, ERROR_STATUS, type ErrorCode } from '../errors/api-error.ts';
import { zodDetails } from '../errors/to-api-error.ts';
import { API_PREFIX } from '../context.ts';
import { ErrorBody } from '../schemas/common.ts';
import { locateInputError } from './locate-input-error.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

const NO_QUERY = z.strictObject({});

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> {
  method: Method;
  /** OpenAPI style, `/remotes/{id}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  status: number;
  /** Omitted for 204. */
  response?: R;
  /** Error codes this route answers with besides validation and auth. */
  errors?: ErrorCode[];
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  req: Request;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
type In<S> = S extends z.ZodType ? z.input<S> : undefined;

/**
 * Registers a route on the router and its operation in the OpenAPI registry
 * from the same zod schemas, so the document cannot drift from what is
 * validated. Handlers return the response body; errors are thrown.
 */
export class RouteTable {
  constructor(
    private readonly router: Router,
    private readonly registry: OpenAPIRegistry,
  ) {}

  add<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(
    spec: RouteSpec<P, Q, B, R>,
    handler: (input: RouteInput<Out<P>, Out<Q>, Out<B>>) => Promise<In<R> | Out<R>>,
  ): void {
    this.registry.registerPath(openApiOperation(spec));
    const expressPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    this.router[spec.method](expressPath, async (req, res) => {
      // An id that is not even a UUID names nothing: 404, like any unknown id.
      const params = parse(spec.params, req.params, 'params', 'NOT_FOUND');
      // A route without filters takes no query string at all: a stray parameter is a mistake worth reporting.
      const query = parse(spec.query ?? NO_QUERY, req.query, 'query', 'VALIDATION_FAILED');
      if (spec.body && !req.is('application/json')) {
        throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
      }
      const body = parse(spec.body, req.body, 'body', 'VALIDATION_FAILED');
      const principal = res.locals.principal as Principal;
      // What a handler passes on to a service is its body, or else its query: domain errors name fields of that.
      const result = await handler({ params, query, body, principal, req } as RouteInput<Out<P>, Out<Q>, Out<B>>).catch((error: unknown) => {
        throw locateInputError(error, spec.body ? 'body' : 'query');
      });
      if (spec.response) res.status(spec.status).json(result);
      else res.status(spec.status).end();
    });
  }
}

function parse<S extends z.ZodType | undefined>(schema: S, value: unknown, location: string, code: ErrorCode) {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const message = code === 'NOT_FOUND' ? 'no such resource' : `the request ${location} is invalid`;
  throw new ApiError(code, message, zodDetails(result.error, location));
}

function openApiOperation(spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType, z.ZodType>): RouteConfig {
  const codes = new Set<ErrorCode>(['UNAUTHORIZED', 'FORBIDDEN', 'VALIDATION_FAILED', 'MALFORMED_REQUEST', ...(spec.errors ?? [])]);
  if (spec.params) codes.add('NOT_FOUND');
  if (spec.body) ['MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'].forEach((c) => codes.add(c as ErrorCode));
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const errorResponses: RouteConfig['responses'] = {};
  for (const [status, list] of byStatus) {
    errorResponses[status] = { description: list.join(', '), content: { 'application/json': { schema: ErrorBody } } };
  }
  return {
    method: spec.method,
    path: `${API_PREFIX}${spec.path}`,
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security: [{ bearer: [] }],
    request: {
      ...(spec.params ? { params: spec.params as z.ZodObject } : {}),
      ...(spec.query ? { query: spec.query as z.ZodObject } : {}),
      ...(spec.body ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
    },
    responses: {
      [spec.status]: spec.response
        ? { description: 'success', content: { 'application/json': { schema: spec.response } } }
        : { description: 'success, no body' },
      ...errorResponses,
    },
  };
}
