/* eslint-disable @typescript-eslint/no-explicit-any -- tests read JSON replies loosely */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '@cistern/config';
import { createScheduleQueue, createTaskQueue, redisConnectionOptions } from '@cistern/queue';
import { openResources, type Resources } from '@cistern/runtime';
import { createTestDatabase, createTestRedisPrefix, TEST_REDIS_URL, type TestDatabase } from '@cistern/testkit';
import type { Queue } from 'bullmq';
import { pino } from 'pino';
import { startApi, type RunningApi } from '../src/index.ts';
import { documentErrors } from './document-conformance.ts';

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';

export interface Reply<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** The API on a real PostgreSQL database and Redis prefix of its own, with every log line kept. */
export class ApiHarness {
  resources!: Resources;
  api!: RunningApi;
  taskQueue!: Queue;
  scheduleQueue!: Queue;
  prefix = '';
  readonly logLines: string[] = [];
  private testDb!: TestDatabase;
  private dataDir = '';
  private cleanupRedis!: () => Promise<void>;

  async start(): Promise<void> {
    this.testDb = await createTestDatabase();
    const redis = createTestRedisPrefix();
    this.prefix = redis.prefix;
    this.cleanupRedis = redis.cleanup;
    this.dataDir = await mkdtemp(path.join(tmpdir(), 'cistern-api-'));
    const config = loadConfig({
      DATABASE_URL: this.testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: this.prefix,
      DATA_DIR: this.dataDir,
      SECRET_KEY: 'ab'.repeat(32),
      CISTERN_ADMIN_TOKEN: ADMIN_TOKEN,
      PUBLIC_URL: 'https://mirror.example.test',
      LOG_LEVEL: 'silent',
    });
    const resources = await openResources(config, { allInOne: false });
    const sink = new Writable({
      write: (chunk, _encoding, done) => {
        this.logLines.push(String(chunk));
        done();
      },
    });
    // No redaction here on purpose: secrets must stay out of log lines because they are never logged.
    this.resources = { ...resources, logger: pino({ level: 'trace' }, sink) };
    this.api = await startApi(this.resources, { port: 0 });
    const connection = redisConnectionOptions(TEST_REDIS_URL);
    this.taskQueue = createTaskQueue({ connection, prefix: this.prefix });
    this.scheduleQueue = createScheduleQueue({ connection, prefix: this.prefix });
  }

  get prisma() {
    return this.resources.db.prisma;
  }

  async request<T = any>(
    method: string,
    url: string,
    body?: unknown,
    init: { token?: string | null; headers?: Record<string, string>; raw?: string | Uint8Array } = {},
  ): Promise<Reply<T>> {
    const token = init.token === undefined ? ADMIN_TOKEN : init.token;
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers };
    let payload: string | Uint8Array | undefined = init.raw;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    } else if (payload !== undefined) {
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(this.api.url + url, { method, headers, body: payload });
    const text = await response.text();
    // Every body the API accepts, in any test, must be one the OpenAPI document accepts too.
    const refused = response.ok && body !== undefined ? documentErrors(method, url, body) : [];
    if (refused.length > 0) throw new Error(`the API accepted a body its OpenAPI document refuses:\n${refused.join('\n')}`);
    return { status: response.status, body: parseJson(text) as T, text, headers: response.headers };
  }

  get = <T = any>(url: string, token?: string | null) => this.request<T>('GET', url, undefined, { token });
  post = <T = any>(url: string, body?: unknown) => this.request<T>('POST', url, body ?? {});
  put = <T = any>(url: string, body: unknown) => this.request<T>('PUT', url, body);
  patch = <T = any>(url: string, body: unknown) => this.request<T>('PATCH', url, body);
  delete = <T = any>(url: string) => this.request<T>('DELETE', url);

  async stop(): Promise<void> {
    await this.api?.close();
    await Promise.all([this.taskQueue?.close(), this.scheduleQueue?.close()]);
    await this.resources?.close();
    await this.testDb?.drop();
    await this.cleanupRedis?.();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** A remote body that passes validation, with overrides. */
export const remoteBody = (overrides: Record<string, unknown> = {}) => ({
  name: `remote-${Math.random().toString(36).slice(2, 10)}`,
  url: 'https://registry.example.test',
  upstreamName: 'team/app',
  ...overrides,
});
