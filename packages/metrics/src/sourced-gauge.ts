import { Counter, Gauge, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { metricsRegistry } from './metrics-registry.ts';

/** One series of a gauge: its labels and its value. */
export interface GaugeSample<L extends string> {
  labels: Partial<Record<L, string>>;
  value: number;
}

/** Where a gauge's series come from at scrape time; an empty list leaves the gauge without series. */
export type GaugeSource<L extends string> = () => Promise<readonly GaugeSample<L>[]>;

/** A gauge whose series a process's wiring provides (the API's queues and database), defined once at module level. */
export interface SourcedGauge<L extends string> {
  /**
   * Registers the gauge on the process's registry (once) and reads it from
   * `source` at every scrape, until the returned function unbinds it. Bound
   * several times (an app built twice in one process), the latest binding
   * still bound is read.
   */
  bind(source: GaugeSource<L>): () => void;
}

const COLLECT_ERRORS = 'cistern_metrics_collect_errors_total';

/** A source that has not answered within this is counted as failed and its gauge left out of the scrape. */
const SOURCE_DEADLINE_MS = 3000;

/** The readings of sourced gauges in progress, which the error counter waits for. */
const readings = new Set<Promise<unknown>>();

/**
 * Failed reads of the global gauges, by source: the gauge is left out of
 * that scrape (never a 500 from /metrics, never a stale or zero value).
 * Registered with the first sourced gauge, so processes without any have none.
 */
const collectErrors = new Counter({
  name: COLLECT_ERRORS,
  help: 'Reads of a global gauge that failed or timed out (the gauge was left out of that scrape), by source',
  labelNames: ['source'],
  registers: [],
  // The registry starts every metric's reading at once: after one turn every gauge of this scrape has begun
  // its read, and the count then includes the failures of the same scrape.
  async collect() {
    await Promise.resolve();
    await Promise.allSettled([...readings]);
  },
});

function registerOnce(name: string, metric: Gauge | Counter): void {
  if (metricsRegistry.getSingleMetric(name) !== metric) metricsRegistry.registerMetric(metric);
}

/** Counts a failed read of `source` (a bounded name: queue_jobs, storage, repository_last_sync_success). */
export function countCollectError(source: string): void {
  registerOnce(COLLECT_ERRORS, collectErrors);
  collectErrors.inc({ source });
}

async function withinDeadline<T>(read: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${SOURCE_DEADLINE_MS} ms`)), SOURCE_DEADLINE_MS);
  });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** prom-client's Gauge, with its series read from the latest bound source instead of kept between scrapes. */
class BoundGauge<L extends string> extends Gauge<L> {
  readonly sources: GaugeSource<L>[] = [];
  private readonly source: string;

  constructor(config: { name: string; help: string; labelNames: readonly L[]; source: string }) {
    super({ name: config.name, help: config.help, labelNames: config.labelNames, registers: [] });
    this.source = config.source;
  }

  // Built per scrape, not kept in the gauge's own map: two scrapes at once cannot mix their readings.
  override async get(): Promise<MetricObjectWithValues<MetricValue<L>>> {
    const reading = this.read();
    readings.add(reading);
    try {
      return { ...(await super.get()), values: await reading };
    } finally {
      readings.delete(reading);
    }
  }

  private async read(): Promise<MetricValue<L>[]> {
    const source = this.sources.at(-1);
    try {
      return source ? [...(await withinDeadline(source()))] : [];
    } catch {
      countCollectError(this.source);
      return [];
    }
  }
}

/**
 * A gauge read from a source at scrape time, exported only by the processes
 * that bind it. A read that fails or takes longer than 3 s leaves the gauge
 * out of that scrape and counts in `cistern_metrics_collect_errors_total{source}`.
 */
export function sourcedGauge<L extends string = never>(config: { name: string; help: string; labelNames?: readonly L[]; source: string }): SourcedGauge<L> {
  const gauge = new BoundGauge<L>({ ...config, labelNames: config.labelNames ?? [] });
  return {
    bind: (source) => {
      registerOnce(config.name, gauge);
      registerOnce(COLLECT_ERRORS, collectErrors);
      gauge.sources.push(source);
      return () => {
        const at = gauge.sources.lastIndexOf(source);
        if (at >= 0) gauge.sources.splice(at, 1);
      };
    },
  };
}
