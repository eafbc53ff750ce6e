import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase, freePort, makeTempDir, removeDir, type TestDatabase } from '@cistern/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alive, redisServersOf } from './embedded-redis.ts';
import { startProcess, waitForReady, type Started } from './processes.ts';

// A Cistern killed outright leaves its embedded redis-server running; the
// next start of the same data directory must recognise it by its pidfile and
// leave no redis-server of that directory behind when it stops.
let db: TestDatabase;
let dataDir: string;
let env: Record<string, string>;
const runs: Started[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await makeTempDir('embedded-redis');
  env = {
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    EMBEDDED_REDIS_PORT: String(await freePort()),
    API_PORT: String(await freePort()),
    REGISTRY_PORT: String(await freePort()),
    WORKER_PORT: String(await freePort()),
  };
});
afterEach(async () => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  for (const pid of await redisServersOf(dataDir)) process.kill(pid, 'SIGKILL');
});
afterAll(async () => {
  await db.drop();
  await removeDir(dataDir);
});

async function start(): Promise<Started> {
  const run = startProcess('scripts/start-all.ts', env);
  runs.push(run);
  for (const port of [env.API_PORT, env.WORKER_PORT, env.REGISTRY_PORT]) await waitForReady(`http://127.0.0.1:${port}/readyz`, { of: run });
  return run;
}

const pidfile = () => path.join(dataDir, 'redis', 'redis.pid');

async function stopCleanly(run: Started): Promise<void> {
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  expect(await redisServersOf(dataDir)).toEqual([]);
  expect(existsSync(pidfile())).toBe(false);
}

describe('the embedded Redis a killed Cistern left running', () => {
  it('is stopped and replaced at the next start, which says so and leaves none behind at exit', async () => {
    const first = await start();
    const [leftover] = await redisServersOf(dataDir);
    expect(leftover).toBeDefined();
    expect(Number(await readFile(pidfile(), 'utf8'))).toBe(leftover);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(alive(leftover ?? 0)).toBe(true);

    const second = await start();
    const line = second
      .output()
      .split('\n')
      .find((l) => l.includes('a previous run of this data directory left running'));
    expect(line && (JSON.parse(line) as { pid: number }).pid).toBe(leftover);
    expect(alive(leftover ?? 0)).toBe(false);
    const [fresh] = await redisServersOf(dataDir);
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(leftover);
    expect(second.output()).toContain('started an embedded redis-server');
    await stopCleanly(second);
  }, 120_000);

  it('leaves alone a process whose pid a stale pidfile names (the pid was recycled)', async () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await writeFile(pidfile(), `${other.pid}\n`);
      const run = await start();
      expect(run.output()).toContain('the embedded Redis pidfile names no running redis-server of this data directory');
      expect(alive(other.pid ?? 0)).toBe(true);
      expect(run.output()).toContain('started an embedded redis-server');
      await stopCleanly(run);
      expect(alive(other.pid ?? 0)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  }, 120_000);
});
