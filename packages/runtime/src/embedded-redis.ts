import { spawn, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { assertRedisReachable } from '@cistern/queue';

export interface EmbeddedRedis {
  stop(): Promise<void>;
}

export function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * For the all-in-one start only: when nothing answers at the default Redis
 * address, run redis-server ourselves with its data (append-only file) under
 * the data directory, so queued tasks survive a restart.
 */
export async function startEmbeddedRedis(redisUrl: string, dataDir: string, logger: Logger): Promise<EmbeddedRedis> {
  const url = new URL(redisUrl);
  const dir = path.join(dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    ['--bind', url.hostname, '--port', url.port || '6379', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; ; attempt++) {
    try {
      await assertRedisReachable(redisUrl, 500);
      break;
    } catch (error) {
      if (attempt >= 20 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw error;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  logger.info({ dir, port: url.port || '6379' }, 'started an embedded redis-server for the all-in-one start');
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
