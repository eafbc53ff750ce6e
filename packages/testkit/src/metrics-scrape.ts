import { createRequire } from 'node:module';

/** One family as the parser returns it (prom2json's shape); values stay strings. */
interface ParsedFamily {
  name: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

// The package ships no types: required with the shape declared here. Throws on a line that is not valid text format.
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

/** One series of an exposition: `_bucket`, `_sum` and `_count` of a histogram are series of their own. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed `/metrics` answer. */
export class MetricsScrape {
  constructor(readonly samples: readonly MetricSample[]) {}

  /** The series named `name` whose labels include `labels`. */
  series(name: string, labels: Record<string, string> = {}): MetricSample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The sum of those series' values; 0 when there is none (a counter never incremented has no labelled series). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.series(name, labels).reduce((sum, s) => sum + s.value, 0);
  }
}

/**
 * Parses Prometheus text exposition with `parse-prometheus-text-format`
 * (throws on an invalid line). That parser folds a labelled histogram into
 * one unlabelled sample (yunyu/parse-prometheus-text-format#13), so the
 * histogram TYPE lines are left out: each `_bucket`, `_sum` and `_count`
 * series then parses as an untyped one with its labels.
 */
export function parseMetrics(text: string): MetricsScrape {
  const untyped = text
    .split('\n')
    .filter((line) => !/^# TYPE \S+ histogram$/.test(line))
    .join('\n');
  const samples = parsePrometheusTextFormat(untyped).flatMap((family) =>
    family.metrics.map((m) => ({ name: family.name, labels: m.labels ?? {}, value: Number(m.value) })),
  );
  return new MetricsScrape(samples);
}

/** GET `url` (a `/metrics` endpoint), with the bearer `token` if given, and parse it; throws on a non-200. */
export async function scrapeMetrics(url: string, token?: string): Promise<MetricsScrape> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
  return parseMetrics(text);
}
