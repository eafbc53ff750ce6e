import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';

/** The pids of every redis-server whose working directory is `dataDir`'s embedded Redis directory (it changes into its `--dir`). */
export async function redisServersOf(dataDir: string): Promise<number[]> {
  const dir = await realpath(path.join(dataDir, 'redis')).catch(() => undefined);
  if (!dir) return [];
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [name, cwd] = await Promise.all([readFile(`/proc/${entry}/comm`, 'utf8'), readlink(`/proc/${entry}/cwd`)]);
      if (name.trim() === 'redis-server' && cwd === dir) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Whether a pid is alive (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
