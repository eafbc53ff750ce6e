import { Validator } from '@seriousme/openapi-schema-validator';
import { connect } from 'node:net';
import { brotliCompressSync, brotliDecompressSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN, ApiHarness, remoteBody } from './harness.ts';

const h = new ApiHarness();
let ids: Record<string, string> = {};
beforeAll(async () => {
  await h.start();
  const remote = (await h.post('/api/v1/remotes', remoteBody({ name: 'fuzz-remote' }))).body;
  const repo = (await h.post('/api/v1/repositories', { name: 'fuzz-repo', remote: remote.id })).body;
  const dist = (await h.post('/api/v1/distributions', { name: 'fuzz-dist', basePath: 'fuzz', repository: repo.id })).body;
  const schedule = (await h.post('/api/v1/schedules', { name: 'fuzz-schedule', cron: '0 0 1 1 *', repository: repo.id })).body;
  ids = { remote: remote.id, repo: repo.id, dist: dist.id, schedule: schedule.id };
});
afterAll(() => h.stop());

/** Every row users can change, to prove a refused request changed none. */
async function snapshot() {
  const p = h.prisma;
  return Promise.all([
    p.remote.findMany({ orderBy: { id: 'asc' } }),
    p.repository.findMany({ orderBy: { id: 'asc' } }),
    p.repositoryVersion.findMany({ orderBy: { id: 'asc' } }),
    p.distribution.findMany({ orderBy: { id: 'asc' } }),
    p.apiToken.findMany({ orderBy: { id: 'asc' } }),
    p.task.findMany({ orderBy: { id: 'asc' } }),
    p.schedule.findMany({ orderBy: { id: 'asc' } }),
    p.mediaTypePolicy.findMany(),
  ]);
}

const writeEndpoints = () => [
  ['POST', '/api/v1/remotes'],
  ['PUT', `/api/v1/remotes/${ids.remote}`],
  ['PATCH', `/api/v1/remotes/${ids.remote}`],
  ['POST', '/api/v1/repositories'],
  ['PATCH', `/api/v1/repositories/${ids.repo}`],
  ['POST', `/api/v1/repositories/${ids.repo}/sync`],
  ['POST', '/api/v1/distributions'],
  ['PUT', `/api/v1/distributions/${ids.dist}`],
  ['POST', '/api/v1/tokens'],
  ['POST', '/api/v1/schedules'],
  ['PATCH', `/api/v1/schedules/${ids.schedule}`],
  ['PUT', '/api/v1/settings/media-types'],
  ['POST', '/api/v1/repositories/reclaim'],
];

/** Always malformed: broken JSON, or an object with at least one unknown field, or a stray query parameter. */
const malformed = fc.oneof(
  fc.record({ raw: fc.string({ unit: 'binary' }).map((s) => `${s} {`), query: fc.constant('') }),
  fc.record({
    body: fc
      .tuple(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), fc.string({ unit: 'binary', minLength: 1 }))
      .map(([fields, key]) => ({ ...fields, [`\u0000${key}`]: fields })),
    query: fc.constant(''),
  }),
  fc.record({
    body: fc.record({
      name: fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.constant(null)),
      url: fc.jsonValue(),
      repository: fc.string(),
      cron: fc.string(),
      scope: fc.string(),
    }),
    query: fc.string({ unit: 'binary', minLength: 1 }).map((s) => `?x${encodeURIComponent(s)}=${encodeURIComponent(s)}`),
  }),
);

/** The encodings body-parser inflates; anything else is refused. */
const COMPRESS = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync } as const;

const DECOMPRESS = { gzip: gunzipSync, deflate: inflateSync, br: brotliDecompressSync } as const;

/** Whether `raw` really is a stream of `encoding` (random bytes sometimes are: one byte 0x06 is an empty brotli stream). */
function decodes(encoding: string, raw: Uint8Array): boolean {
  const decompress = DECOMPRESS[encoding.toLowerCase() as keyof typeof DECOMPRESS] as ((bytes: Uint8Array) => Buffer) | undefined;
  if (!decompress) return false;
  try {
    decompress(raw);
    return true;
  } catch {
    return false;
  }
}

/** A body whose Content-Encoding lies, a compressed stream cut short or holding broken JSON, or an encoding no parser knows. */
const encodedBody = fc.oneof(
  fc
    .record({
      encoding: fc.constantFrom('gzip', 'deflate', 'br', 'GZIP', 'x-gzip', 'zstd', 'compress', 'gzip, br', 'identity, gzip', 'chunked'),
      raw: fc.uint8Array({ maxLength: 200 }),
    })
    .filter(({ encoding, raw }) => !decodes(encoding, raw)),
  fc
    .tuple(fc.constantFrom(...(Object.keys(COMPRESS) as (keyof typeof COMPRESS)[])), fc.jsonValue({ maxDepth: 2 }), fc.nat(), fc.boolean())
    .map(([encoding, value, cut, broken]) => {
      const compressed = COMPRESS[encoding](Buffer.from(`${JSON.stringify(value) ?? ''}${broken ? ' {' : ''}`));
      return { encoding, raw: new Uint8Array(broken ? compressed : compressed.subarray(0, cut % Math.max(compressed.length - 1, 1))) };
    }),
);

/** A path segment that does not percent-decode: a stray `%`, non-hex digits, or escapes of bytes that are not UTF-8. */
const undecodable = fc
  .tuple(
    fc.string({ maxLength: 8 }).map(encodeURIComponent),
    fc.constantFrom('%', '%z', '%zz', '%g0', '%4', '%C3%28', '%ED%A0%80', '%FF', '%E2%82'),
    fc.string({ maxLength: 8 }).map(encodeURIComponent),
  )
  .map((parts) => parts.join(''));

const pathsWith = (segment: string) => [
  ['GET', `/api/v1/remotes/${segment}`],
  ['PATCH', `/api/v1/remotes/${segment}`],
  ['DELETE', `/api/v1/schedules/${segment}`],
  ['GET', `/api/v1/repositories/${segment}/versions/${segment}`],
  ['POST', `/api/v1/repositories/${segment}/sync`],
  ['POST', `/api/v1/tasks/${segment}/cancel`],
  ['GET', `/api/v1/content/manifests/${segment}/referrers`],
  ['GET', `/api/v1/${segment}`],
  ['GET', `/api/v1/remotes?name=${segment}&limit=${segment}&limit=2`],
  ['GET', `/api/v1/tasks?${segment}=${segment}`],
];

describe('errors', () => {
  it('fuzz: 500 malformed bodies and query strings to the write endpoints answer 4xx with the error shape and change no row', async () => {
    const before = await snapshot();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.nat(writeEndpoints().length - 1), malformed, async (which, input) => {
        const [method, path] = writeEndpoints()[which] as [string, string];
        const reply = await h.request(method, path + input.query, 'body' in input ? input.body : undefined, 'raw' in input ? { raw: input.raw } : {});
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        expect(reply.status, `${method} ${path} ${JSON.stringify(input)} → ${reply.text}`).toBeGreaterThanOrEqual(400);
        expect(reply.status).toBeLessThan(500);
        expect(reply.body.error).toEqual({ code: expect.any(String), message: expect.any(String), details: expect.any(Array) });
      }),
      { numRuns: 500 },
    );
    expect([...statuses.values()].reduce((a, b) => a + b)).toBe(500);
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  it('fuzz: 300 bodies with lying, truncated or unknown Content-Encoding answer 4xx with the error shape and change no row', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(fc.nat(writeEndpoints().length - 1), encodedBody, async (which, input) => {
        const [method, path] = writeEndpoints()[which] as [string, string];
        const reply = await h.request(method, path, undefined, { raw: input.raw, headers: { 'content-encoding': input.encoding } });
        expect(reply.status, `${method} ${path} ${input.encoding} ${Buffer.from(input.raw).toString('hex')} → ${reply.text}`).toBeGreaterThanOrEqual(400);
        expect(reply.status).toBeLessThan(500);
        expect(reply.body.error).toEqual({ code: expect.any(String), message: expect.any(String), details: expect.any(Array) });
      }),
      { numRuns: 300 },
    );
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  it("the queue dashboard's login form: oversized, mis-encoded or lying bodies answer 4xx with the error shape, never 5xx", async () => {
    const form = (raw: string | Uint8Array, headers: Record<string, string> = {}) =>
      h.request('POST', '/admin/login', undefined, { raw, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
    const cases = [
      { reply: await form(`token=${'a'.repeat(9000)}`), status: 413 },
      { reply: await form('token=x', { 'content-encoding': 'bogus' }), status: 415 },
      { reply: await form('token=x', { 'content-type': 'application/x-www-form-urlencoded; charset=koi8-r' }), status: 415 },
      { reply: await form(new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x01]), { 'content-encoding': 'gzip' }), status: 400 },
    ];
    for (const { reply, status } of cases) {
      expect(reply.status, reply.text).toBe(status);
      expect(reply.body.error).toEqual({ code: expect.any(String), message: expect.any(String), details: expect.any(Array) });
    }
    await fc.assert(
      fc.asyncProperty(encodedBody, async (input) => {
        const reply = await form(input.raw, { 'content-encoding': input.encoding });
        expect(reply.status, `${input.encoding} ${Buffer.from(input.raw).toString('hex')} → ${reply.text}`).toBeGreaterThanOrEqual(400);
        expect(reply.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it('fuzz: 300 paths and query strings that do not percent-decode answer 4xx with the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(undecodable, fc.nat(pathsWith('').length - 1), async (segment, which) => {
        const [method, path] = pathsWith(segment)[which] as [string, string];
        const reply = await h.request(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
        expect(reply.status, `${method} ${path} → ${reply.text}`).toBeGreaterThanOrEqual(400);
        expect(reply.status).toBeLessThan(500);
        expect(reply.body.error).toEqual({ code: expect.any(String), message: expect.any(String), details: expect.any(Array) });
      }),
      { numRuns: 300 },
    );
    const reply = await h.get('/api/v1/remotes/%zz');
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('MALFORMED_REQUEST');
  }, 120_000);

  it('takes JSON bodies compressed with gzip, deflate or br, and answers 415 naming any other encoding', async () => {
    for (const [encoding, compress] of Object.entries(COMPRESS)) {
      const body = remoteBody({ name: `zipped-${encoding}` });
      const reply = await h.request('POST', '/api/v1/remotes', undefined, {
        raw: new Uint8Array(compress(Buffer.from(JSON.stringify(body)))),
        headers: { 'content-encoding': encoding },
      });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.body.name).toBe(body.name);
    }
    const compress = await h.request('POST', '/api/v1/remotes', undefined, { raw: JSON.stringify(remoteBody()), headers: { 'content-encoding': 'compress' } });
    expect(compress.status).toBe(415);
    expect(compress.body.error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      details: [{ path: 'headers.content-encoding', message: '"compress" is not supported' }],
    });
    const broken = await h.request('POST', '/api/v1/remotes', undefined, { raw: JSON.stringify(remoteBody()), headers: { 'content-encoding': 'gzip' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('MALFORMED_REQUEST');
  });

  it('logs no failure for a client that hangs up mid-body: a client error, not a server fault', async () => {
    const url = new URL(h.api.url);
    const logged = h.logLines.length;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      socket.on('error', reject);
      socket.on('close', () => resolve());
      const head = `POST /api/v1/remotes HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
      socket.write(`${head}{"name":`, () => socket.destroy());
    });
    await vi.waitFor(() =>
      expect(h.logLines.slice(logged).map((line) => JSON.parse(line))).toContainEqual(
        expect.objectContaining({ msg: 'request', route: '/remotes', status: 400, aborted: true }),
      ),
    );
    expect(h.logLines.slice(logged).filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });

  it('answers 413 to an oversized body, 415 to a non-JSON one, 400 naming unknown fields', async () => {
    const big = await h.post('/api/v1/remotes', remoteBody({ caCert: 'x'.repeat(2 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const text = await h.request('POST', '/api/v1/remotes', undefined, { raw: 'name=x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const unknown = await h.post('/api/v1/repositories', { name: 'r', colour: 'red', size: 1 });
    expect(unknown.body.error.details).toEqual([
      { path: 'body.colour', code: 'unknown_field', message: 'unknown field' },
      { path: 'body.size', code: 'unknown_field', message: 'unknown field' },
    ]);
    expect((await h.get('/api/v1/nothing-here')).body.error.code).toBe('NOT_FOUND');
  });

  it('creates one of two racing resources with one name: one 201, the rest 409', async () => {
    for (const [path, body] of [
      ['/api/v1/remotes', remoteBody({ name: 'race' })],
      ['/api/v1/repositories', { name: 'race' }],
    ] as const) {
      const replies = await Promise.all(Array.from({ length: 8 }, () => h.post(path, body)));
      expect(replies.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    }
  });
});

describe('OpenAPI and docs', () => {
  it('serves a document that an OpenAPI 3.1 validator accepts', async () => {
    const doc = (await h.get('/openapi.json', null)).body;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('writes every pattern as an ECMA-262 source that compiles with the u flag; the name pattern refuses control characters', async () => {
    const doc = (await h.get('/openapi.json', null)).body;
    const patterns: string[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(collect);
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'pattern' && typeof value === 'string') patterns.push(value);
        else collect(value);
      }
    };
    collect(doc);
    expect(patterns.length).toBeGreaterThan(10);
    for (const pattern of patterns) expect(() => new RegExp(pattern, 'u'), pattern).not.toThrow();
    const name = new RegExp(doc.components.schemas.Remote.properties.name.pattern, 'u');
    expect(['alpine', 'hub alpine', 'ünïcode'].every((n) => name.test(n))).toBe(true);
    expect(['a\u0007b', ' lead', 'trail ', ''].some((n) => name.test(n))).toBe(false);
  });

  it('serves an OpenAPI 3.1 document generated from the schemas, with write-only fields kept out of responses', async () => {
    const doc = (await h.get('/openapi.json', null)).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/api/v1/remotes',
      '/api/v1/repositories/{id}/sync',
      '/api/v1/repositories/{id}/versions/{number}',
      '/api/v1/distributions',
      '/api/v1/tokens',
      '/api/v1/tasks/{id}/cancel',
      '/api/v1/schedules',
      '/api/v1/content/manifests/{digest}/referrers',
      '/api/v1/settings/media-types',
      '/api/v1/storage',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.components.schemas.Remote.properties.password).toBeUndefined();
    expect(doc.components.schemas.Remote.properties.passwordSet).toBeDefined();
    expect(doc.components.schemas.Remote.properties.proxyPassword).toBeUndefined();
    expect(doc.components.schemas.Remote.properties.proxyPasswordSet).toBeDefined();
    const usage = doc.components.schemas.Repository.properties.usage;
    expect(Object.keys(usage.properties)).toEqual(['storedBytes', 'exclusiveBytes']);
    expect(usage.description).toContain('too costly');
    expect(Object.keys(doc.components.schemas.StorageSummary.properties)).toEqual(['blobs', 'manifests', 'remoteArtifacts', 'orphans', 'temporary']);
    expect(doc.paths['/api/v1/storage'].get.responses['403']).toBeDefined();
    expect(doc.paths['/api/v1/remotes'].post.responses['409']).toBeDefined();
    expect(doc.paths['/api/v1/repositories/{id}/sync'].post.responses['202']).toBeDefined();
  });

  it('serves /docs with its assets from this server only', async () => {
    const page = await h.get('/docs', null);
    expect(page.status).toBe(200);
    expect(page.text).not.toMatch(/https?:\/\//);
    for (const asset of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/init.js']) {
      expect((await h.get(asset, null)).status).toBe(200);
    }
  });
});
