/**
 * A least-recently-used map bounded by total weight (entries count 1 each
 * unless a weigher says otherwise). Map keeps insertion order, so the first
 * key is always the least recently used one.
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private total = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (value: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    const weight = this.weigh(value);
    // Something heavier than the whole cache would only evict everything else.
    if (weight > this.maxWeight) return;
    this.delete(key);
    this.entries.set(key, { value, weight });
    this.total += weight;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxWeight) break;
      this.entries.delete(oldest);
      this.total -= entry.weight;
    }
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.weight;
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Loads each key once however many callers ask at the same time, and keeps
 * the result in an Lru. A failed load is not kept.
 */
export class LoadingCache<K, V> {
  private readonly cache: Lru<K, Promise<V>>;

  constructor(maxEntries: number) {
    this.cache = new Lru(maxEntries);
  }

  get(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const loading = load();
    this.cache.set(key, loading);
    loading.catch(() => this.cache.delete(key));
    return loading;
  }
}
