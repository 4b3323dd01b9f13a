import { workerLabels } from './cluster-metrics';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client';

/**
 * Metric naming: `seqrec_<service>_<what>_<unit>` (STYLE §2). Standard Node/process metrics keep
 * their usual names so stock dashboards work, with a `service` default label on everything.
 */
export function createRegistry(service: string, labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  // Under the cluster supervisor each worker's series also carry `worker="<slot>"`.
  registry.setDefaultLabels({ service, ...workerLabels(), ...labels });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function metricName(service: string, what: string, unit: string): string {
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, '_');
  return `seqrec_${clean(service)}_${clean(what)}${unit ? `_${clean(unit)}` : ''}`;
}

export function counter<L extends string>(registry: Registry, config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
  return new Counter({ ...config, registers: [registry] });
}

export function gauge<L extends string>(registry: Registry, config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
  return new Gauge({ ...config, registers: [registry] });
}

export function histogram<L extends string>(registry: Registry, config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
  return new Histogram({ ...config, registers: [registry] });
}

/** Buckets for in-process latencies, seconds: 0.1 ms .. 2.5 s. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Buckets for batch sizes. */
export const BATCH_BUCKETS = [1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000];

export { Counter, Gauge, Histogram, Registry };
