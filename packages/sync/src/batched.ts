import DataLoader from 'dataloader';

/**
 * Gathers concurrent calls into batches: the first call runs on the next turn
 * of the event loop, and calls arriving while a batch runs form the next one
 * (several next ones, started together, when more than `maxBatchSize` wait).
 * A sync's manifests and blobs arrive a few at a time; batching their database
 * work turns hundreds of round trips into tens. `run` answers every key, in order.
 */
export function batched<K, V>(run: (keys: readonly K[]) => Promise<readonly V[]>, maxBatchSize: number): (key: K) => Promise<V> {
  let running: Promise<unknown> = Promise.resolve();
  const loader = new DataLoader<K, V>(
    (keys) => {
      const batch = run(keys);
      running = batch.catch(() => undefined);
      return batch;
    },
    { cache: false, maxBatchSize, batchScheduleFn: (dispatch) => void running.then(() => setImmediate(dispatch)) },
  );
  return (key) => loader.load(key);
}
