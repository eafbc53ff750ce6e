/**
 * A HEAD load generator, run as its own process: wrk's and autocannon's
 * parsers both wait for the body a HEAD response's Content-Length announces,
 * and report 0 requests/s. This one reads each response to its blank line
 * only, over `connections` keep-alive sockets, one request in flight on each.
 *
 *   npx tsx bench/serve/head-load.ts <url> <connections> <seconds> <headers-json>
 * Prints a WrkResult as JSON.
 */
import { connect, type Socket } from 'node:net';
import type { WrkResult } from './wrk.ts';

async function load(url: URL, connections: number, seconds: number, headers: Record<string, string>): Promise<WrkResult> {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const request = Buffer.from(`HEAD ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${extra}\r\n`);
  const latencies: number[] = [];
  let bytes = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const one = (socket: Socket) =>
    new Promise<void>((resolve) => {
      let buffered = '';
      let started = performance.now();
      const next = () => {
        if (performance.now() >= deadline) {
          socket.end();
          return resolve();
        }
        started = performance.now();
        socket.write(request);
      };
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        buffered += chunk.toString('latin1');
        for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
          if (!/^HTTP\/1\.1 2\d\d/.test(buffered)) errors += 1;
          buffered = buffered.slice(end + 4);
          latencies.push(performance.now() - started);
          next();
        }
      });
      socket.on('error', () => {
        errors += 1;
        resolve();
      });
      socket.on('connect', next);
    });
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, () => one(connect(Number(url.port), url.hostname))));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: latencies.length / elapsed,
    megabytesPerSecond: bytes / elapsed / 1e6,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
    errors,
  };
}

const [url = '', connections = '32', seconds = '5', headers = '{}'] = process.argv.slice(2);
console.log(JSON.stringify(await load(new URL(url), Number(connections), Number(seconds), JSON.parse(headers) as Record<string, string>)));
