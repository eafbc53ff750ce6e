import { Readable } from 'node:stream';
import { getMetricsFromStream } from 'prom2javascript';

/** One time series of a scrape: its labels, and its value (a histogram's count). */
export interface Series {
  labels: Record<string, string>;
  value: number;
}

/** A whole `/metrics` exposition, parsed by a Prometheus text-format parser. */
export interface Scrape {
  /** Every series of a metric family (empty when the family is absent). */
  series(name: string): Series[];
  /** The sum of the series of `name` whose labels include `labels` (0 when none). */
  value(name: string, labels?: Record<string, string>): number;
  /** The names of the families present. */
  names(): string[];
}

/** GETs `<root>/metrics` and parses all of it; throws if the answer is not 200 or any line does not parse. */
export async function scrapeMetrics(root: string): Promise<Scrape> {
  const res = await fetch(`${root}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${root}/metrics answered ${res.status}: ${text.slice(0, 200)}`);
  const families = await getMetricsFromStream(Readable.from([text]));
  const series = (name: string): Series[] =>
    (families[name]?.data ?? []).map((sample) => ({ labels: sample.labels, value: 'value' in sample ? sample.value : (sample.count ?? 0) }));
  return {
    series,
    value: (name, labels = {}) =>
      series(name)
        .filter((s) => Object.entries(labels).every(([key, value]) => s.labels[key] === value))
        .reduce((sum, s) => sum + s.value, 0),
    names: () => Object.keys(families),
  };
}
