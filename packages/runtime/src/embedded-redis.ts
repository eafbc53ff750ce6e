import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { assertRedisReachable } from '@cistern/queue';

/** An embedded redis-server this process started; `stop` ends it and waits for its exit. */
export interface EmbeddedRedis {
  pid: number;
  stop(): Promise<void>;
}

export function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The embedded Redis's data directory under DATA_DIR, and redis-server's own pidfile in it (written at start, removed at a clean stop). */
function embeddedRedisPaths(dataDir: string): { dir: string; pidfile: string } {
  const dir = path.join(dataDir, 'redis');
  return { dir, pidfile: path.join(dir, 'redis.pid') };
}

/**
 * Whether `pid` is a redis-server working in `dir`. redis-server rewrites its
 * command line, but keeps its name and changes into its `--dir`, so a
 * recycled pid (any other process) is never taken for it. Linux only (/proc).
 */
async function isRedisServerIn(pid: number, dir: string): Promise<boolean> {
  try {
    const [name, cwd, real] = await Promise.all([readFile(`/proc/${pid}/comm`, 'utf8'), readlink(`/proc/${pid}/cwd`), realpath(dir)]);
    return name.trim() === 'redis-server' && cwd === real;
  } catch {
    return false;
  }
}

async function exitedWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A previous run that was killed (SIGKILL, a crash) leaves its embedded
 * redis-server running. It is replaced rather than reused: stopped with
 * SIGTERM (its append-only file keeps the queue), so the server that runs is
 * always one this process started and stops. A pidfile naming any other
 * process is stale and only removed. Says in the log which it did.
 */
export async function stopLeftoverRedis(dataDir: string, logger: Logger): Promise<void> {
  const { dir, pidfile } = embeddedRedisPaths(dataDir);
  const text = await readFile(pidfile, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || !(await isRedisServerIn(pid, dir))) {
    logger.info({ pidfile, pid: text.trim() }, 'the embedded Redis pidfile names no running redis-server of this data directory; removed it');
    await rm(pidfile, { force: true });
    return;
  }
  process.kill(pid, 'SIGTERM');
  if (!(await exitedWithin(pid, 10_000))) {
    process.kill(pid, 'SIGKILL');
    await exitedWithin(pid, 2000);
  }
  logger.warn({ pid, dir }, 'stopped the embedded redis-server a previous run of this data directory left running; starting a new one');
}

/**
 * For the all-in-one start only: runs redis-server with its data
 * (append-only file) and pidfile under the data directory, so queued tasks
 * survive a restart. It runs in a session of its own, so a terminal's Ctrl-C
 * reaches Cistern only, which stops it last; if this process exits any other
 * way short of SIGKILL, it is sent SIGTERM on the way out.
 */
export async function startEmbeddedRedis(redisUrl: string, dataDir: string): Promise<EmbeddedRedis> {
  const url = new URL(redisUrl);
  const { dir, pidfile } = embeddedRedisPaths(dataDir);
  await mkdir(dir, { recursive: true });
  const args = ['--bind', url.hostname, '--port', url.port || '6379', '--dir', dir, '--pidfile', pidfile];
  const child = spawn('redis-server', [...args, '--appendonly', 'yes', '--save', '', '--daemonize', 'no'], { stdio: 'ignore', detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  for (let attempt = 0; ; attempt++) {
    try {
      await assertRedisReachable(redisUrl, 500);
      break;
    } catch (error) {
      if (attempt >= 20 || child.exitCode !== null) {
        child.kill('SIGKILL');
        process.off('exit', onExit);
        throw error;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    pid: child.pid ?? 0,
    stop: async () => {
      process.off('exit', onExit);
      child.kill('SIGTERM');
      await exited;
    },
  };
}
