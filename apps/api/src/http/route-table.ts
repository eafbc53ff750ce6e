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
  /** The methods of each path (as a pattern of its URLs), for the 405 of any other. */
  private readonly methods = new Map<string, { pattern: RegExp; methods: Method[] }>();
  /** Every route in the order express tries them: the first that matches a request handles it. */
  private readonly routes: { method: Method; path: string; pattern: RegExp }[] = [];

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
    const path = this.methods.get(spec.path) ?? { pattern: urlPattern(spec.path), methods: [] };
    this.methods.set(spec.path, { ...path, methods: [...path.methods, spec.method] });
    this.routes.push({ method: spec.method, path: spec.path, pattern: path.pattern });
    this.router[spec.method](expressPath, async (req, res) => {
      // An id that is not even a UUID names nothing: 404, like any unknown id.
      const params = parse(spec.params, req.params, 'params', 'NOT_FOUND');
      // A route without filters takes no query string at all: a stray parameter is a mistake worth reporting.
      const query = parse(spec.query ?? NO_QUERY, req.query, 'query', 'VALIDATION_FAILED');
      const body = spec.body && parse(spec.body, jsonBodyOf(req), 'body', 'VALIDATION_FAILED');
      const principal = res.locals.principal as Principal;
      // What a handler passes on to a service is its body, or else its query: domain errors name fields of that.
      const result = await handler({ params, query, body, principal, req } as RouteInput<Out<P>, Out<Q>, Out<B>>).catch((error: unknown) => {
        throw locateInputError(error, spec.body ? 'body' : 'query');
      });
      if (spec.response) res.status(spec.status).json(result);
      else res.status(spec.status).end();
    });
  }

  /**
   * The OpenAPI path template (`/repositories/{id}`) of the route that
   * handles `method` on `path` (relative to the router's mount point), else
   * of the first route on that path (the 405 and OPTIONS answers); undefined
   * when no route's path matches. A bounded set whatever paths clients send.
   */
  templateOf(method: string, path: string): string | undefined {
    const wanted = method === 'HEAD' ? 'get' : method.toLowerCase();
    const onPath = this.routes.filter(({ pattern }) => pattern.test(path));
    return (onPath.find((route) => route.method === wanted) ?? onPath[0])?.path;
  }

  /**
   * After every route: a path answers another method with 405 and `Allow`
   * (OPTIONS with 204 and `Allow`), the methods of every route whose path
   * matches it (`/repositories/reclaim` is also a `/repositories/{id}`).
   */
  refuseOtherMethods(): void {
    this.router.use((req, res, next) => {
      const taken = new Set([...this.methods.values()].filter(({ pattern }) => pattern.test(req.path)).flatMap(({ methods }) => methods));
      if (taken.size === 0) return next();
      const allow = [...taken].flatMap((m) => (m === 'get' ? ['GET', 'HEAD'] : [m.toUpperCase()])).join(', ');
      res.setHeader('Allow', allow);
      if (req.method !== 'OPTIONS') throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; this path takes ${allow}`);
      res.status(204).end();
    });
  }
}

/** The URLs an OpenAPI path template matches as express routes them: any segment for a parameter, case-insensitive, an optional trailing slash. */
function urlPattern(path: string): RegExp {
  const literal = path.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('[^/]+')}/?$`, 'i');
}

/**
 * The request's JSON body. A request that sends no bytes, naming no type or
 * JSON (`curl -H 'Content-Type: application/json' -X POST` sends none), is
 * `{}`: a body whose fields are all optional may be left out, and a body that
 * needs fields gets 400 naming them. Any other type is 415.
 */
function jsonBodyOf(req: Request): unknown {
  const sendsBytes = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (!sendsBytes && (type === undefined || type === 'application/json')) return {};
  if (!req.is('application/json')) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  return req.body;
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
      // A body whose fields are all optional may be left out (see jsonBodyOf).
      ...(spec.body ? { body: { required: !spec.body.safeParse({}).success, content: { 'application/json': { schema: spec.body } } } } : {}),
    },
    responses: {
      [spec.status]: spec.response
        ? { description: 'success', content: { 'application/json': { schema: spec.response } } }
        : { description: 'success, no body' },
      ...errorResponses,
    },
  };
}
