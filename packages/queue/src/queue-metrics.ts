import type { DependencyWatch } from '@cistern/dependency-watch';
import { sourcedGauge, type GaugeSample } from '@cistern/metrics';
import type { Queue } from 'bullmq';

/** The states `cistern_queue_jobs` reports; a bounded label set. */
const QUEUE_JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

type QueueJobLabel = 'queue' | 'state';

const queueJobs = sourcedGauge<QueueJobLabel>({
  name: 'cistern_queue_jobs',
  help: 'Jobs in each BullMQ queue by state (waiting includes prioritized), read from Redis at scrape time',
  labelNames: ['queue', 'state'],
  source: 'queue_jobs',
});

/**
 * The job counts of `queues` by state, one Redis round trip per queue
 * (BullMQ's getJobCounts, under the queue's own prefix). Prioritized jobs
 * wait too: BullMQ keeps them in a set of their own.
 */
async function queueJobCounts(queues: readonly Queue[]): Promise<GaugeSample<QueueJobLabel>[]> {
  const perQueue = await Promise.all(
    queues.map(async (queue) => {
      const counts = await queue.getJobCounts(...QUEUE_JOB_STATES, 'prioritized');
      return QUEUE_JOB_STATES.map((state) => ({
        labels: { queue: queue.name, state },
        value: (counts[state] ?? 0) + (state === 'waiting' ? (counts.prioritized ?? 0) : 0),
      }));
    }),
  );
  return perQueue.flat();
}

/**
 * Exports `cistern_queue_jobs` for `queues`, read at each scrape; while
 * `redisWatch` says Redis is unreachable the gauge is left out at once (its
 * commands would wait for the reconnect). Returns the function that stops it.
 */
export function exportQueueJobs(queues: readonly Queue[], redisWatch: DependencyWatch): () => void {
  return queueJobs.bind(async () => {
    if (redisWatch.isDown) throw new Error('Redis is unreachable');
    return queueJobCounts(queues);
  });
}
