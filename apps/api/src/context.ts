import type { TokenService } from '@cistern/auth';
import type { Config, Logger } from '@cistern/config';
import type { PrismaClient } from '@cistern/db';
import type { TaskService } from '@cistern/queue';
import type { Queue } from 'bullmq';

/** What route modules need; built once by createApiApp. */
export interface ApiContext {
  prisma: PrismaClient;
  config: Config;
  /** Encrypts remote passwords at rest. */
  secretKey: Buffer;
  tasks: TaskService;
  scheduleQueue: Queue;
  tokens: TokenService;
  logger: Logger;
}

export const API_PREFIX = '/api/v1';

export const hrefOf = (collection: string, id: string) => `${API_PREFIX}/${collection}/${id}`;
