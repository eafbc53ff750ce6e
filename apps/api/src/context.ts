import type { TokenService } from '@cistern/auth';
import type { Config, Logger } from '@cistern/config';
import type { PrismaClient } from '@cistern/db';
import type { TaskService } from '@cistern/queue';
import type { Queue } from 'bullmq';
import type { ApiTaskKind } from './task-kinds.ts';

/** What route modules need; built once by startApi. */
export interface ApiContext {
  prisma: PrismaClient;
  config: Config;
  /** Encrypts remote passwords at rest. */
  secretKey: Buffer;
  tasks: TaskService<ApiTaskKind>;
  scheduleQueue: Queue;
  tokens: TokenService;
  logger: Logger;
}

// The API's URL layout lives in @cistern/runtime, where the worker reads it too.
export { API_PREFIX, hrefOf } from '@cistern/runtime';
