import DataLoader from 'dataloader';

/** Keys per database batch, well under PostgreSQL's limit of bind parameters. */
export const MAX_BATCH_KEYS = 1000;

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

/** `batched` for calls that answer nothing (writes). */
export function batchedCalls<K>(run: (keys: readonly K[]) => Promise<unknown>, maxBatchSize: number): (key: K) => Promise<void> {
  return batched(async (keys: readonly K[]) => {
    await run(keys);
    return keys.map(() => undefined);
  }, maxBatchSize);
}

/** Each key's row (or undefined), in the order of `keys`: what a batch of lookups answers. */
export function inKeyOrder<R>(keys: readonly string[], rows: readonly R[], keyOf: (row: R) => string): (R | undefined)[] {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => byKey.get(key));
}
