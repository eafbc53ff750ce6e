import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBlob, pushImage, startDistribution, startFaultProxy, type Distribution, type FaultProxy, type ProxyEvent } from '@cistern/testkit';
import { UpstreamClient } from '../src/index.ts';
import { FAST, recordingSink } from './helpers.ts';

/** Most request starts the proxy saw in any window of `ms`. */
function maxStartsInWindow(events: readonly ProxyEvent[], ms: number): number {
  const starts = events.map((e) => e.start).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < starts.length; i += 1) {
    while ((starts[i] ?? 0) - (starts[j] ?? 0) >= ms) j += 1;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('per-remote limits under 200 parallel calls', () => {
  let registry: Distribution;
  let proxy: FaultProxy;
  let digests: string[];
  beforeAll(async () => {
    registry = await startDistribution();
    proxy = await startFaultProxy(registry.url);
    await pushImage(registry, 'l/app', 'v1');
    digests = [];
    for (let i = 0; i < 10; i += 1) digests.push(await pushBlob(registry, 'l/app', Buffer.alloc(64 * 1024, i)));
  });
  afterAll(async () => {
    await proxy.stop();
    await registry.stop();
  });

  it('holds downloadConcurrency across clients of one remote', async () => {
    proxy.reset();
    proxy.inject({ kind: 'blob', fault: { type: 'delay', ms: 20 } });
    const options = { url: proxy.url, upstreamName: 'l/app', downloadConcurrency: 3, limitKey: 'limits-downloads', ...FAST };
    const clients = [new UpstreamClient(options), new UpstreamClient(options)];
    await Promise.all(Array.from({ length: 200 }, (_, i) => clients[i % 2]?.getBlob(digests[i % digests.length] ?? '', recordingSink())));
    expect(proxy.count('GET', 'blob')).toBe(200);
    const peak = proxy.maxInFlight('blob');
    console.log(`downloadConcurrency 3: peak blob GETs in flight at the upstream ${peak}`);
    expect(peak).toBe(3);
  });

  it('holds requestsPerSecond in every rolling second', async () => {
    proxy.reset();
    const rps = 50;
    const client = new UpstreamClient({ url: proxy.url, upstreamName: 'l/app', requestsPerSecond: rps, limitKey: 'limits-rps', ...FAST });
    const started = performance.now();
    await Promise.all(Array.from({ length: 200 }, () => client.headManifest('v1')));
    const seconds = (performance.now() - started) / 1000;
    const events = proxy.events;
    expect(events).toHaveLength(200);
    const most = maxStartsInWindow(events, 1000);
    console.log(`requestsPerSecond ${rps}: 200 HEADs in ${seconds.toFixed(2)} s, at most ${most} in any 1 s at the upstream`);
    expect(most).toBeLessThanOrEqual(rps);
    expect(seconds).toBeGreaterThan(3);
  });
});
