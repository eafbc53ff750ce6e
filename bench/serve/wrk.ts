import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkRun {
  url: string;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

export interface WrkResult {
  requestsPerSecond: number;
  /** Response bytes (headers included) per second, in MB (10^6). */
  megabytesPerSecond: number;
  p99Ms: number;
  errors: number;
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** HEAD runs go to head-load.ts in its own process: wrk waits for a HEAD response's announced body. */
export async function headLoad(spec: WrkRun): Promise<WrkResult> {
  const script = fileURLToPath(new URL('./head-load.ts', import.meta.url));
  const args = ['--no-install', 'tsx', script, spec.url, String(spec.connections), String(spec.seconds), JSON.stringify(spec.headers)];
  const { stdout } = await run('npx', args);
  return JSON.parse(stdout) as WrkResult;
}

/** One wrk run (one thread: the other core is the server's), parsed from its --latency report. */
export async function wrk(spec: WrkRun, scratch: string): Promise<WrkResult> {
  const script = join(scratch, `wrk-${spec.method}.lua`);
  await writeFile(script, `wrk.method = "${spec.method}"\n`);
  const args = ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--latency', '-s', script];
  for (const [name, value] of Object.entries(spec.headers)) args.push('-H', `${name}: ${value}`);
  const { stdout } = await run('wrk', [...args, spec.url], { maxBuffer: 1024 * 1024 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(stdout);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(stdout);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  if (!Number.isFinite(rps) || !transfer || !p99) throw new Error(`cannot read wrk's report:\n${stdout}`);
  return {
    requestsPerSecond: rps,
    megabytesPerSecond: (Number(transfer[1]) * (UNITS[transfer[2] ?? 'B'] ?? 1)) / 1e6,
    p99Ms: Number(p99[1]) * (TIME[p99[2] ?? 'ms'] ?? 1),
    errors: non2xx + socketErrors,
  };
}
