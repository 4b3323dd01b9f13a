import { BATCH_BUCKETS, LATENCY_BUCKETS, counter, histogram, type Counter, type Histogram, type Registry } from '@seqrec/metrics';
import type { IngestOutcome } from './event-ingestor';

export interface IngestMetrics {
  events: Counter<'source' | 'outcome'>;
  rejected: Counter<'source' | 'reason'>;
  batchSize: Histogram<'source'>;
  batchDuration: Histogram<'source'>;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  return {
    events: counter(registry, {
      name: 'seqrec_ingester_events_total',
      help: 'Input events by source (kafka, http) and outcome (accepted, duplicate, rejected)',
      labelNames: ['source', 'outcome'],
    }),
    rejected: counter(registry, {
      name: 'seqrec_ingester_rejected_events_total',
      help: 'Events sent to the dead-letter topic, by reason',
      labelNames: ['source', 'reason'],
    }),
    batchSize: histogram(registry, {
      name: 'seqrec_ingester_batch_size_events',
      help: 'Events per processed batch or request',
      labelNames: ['source'],
      buckets: BATCH_BUCKETS,
    }),
    batchDuration: histogram(registry, {
      name: 'seqrec_ingester_batch_duration_seconds',
      help: 'Time to validate, de-duplicate and publish one batch or request',
      labelNames: ['source'],
      buckets: LATENCY_BUCKETS,
    }),
  };
}

export function countOutcomes(metrics: IngestMetrics, source: 'kafka' | 'http', outcomes: IngestOutcome[]): void {
  let accepted = 0;
  let duplicate = 0;
  let rejected = 0;
  for (const o of outcomes) {
    if (o.status === 'accepted') accepted++;
    else if (o.status === 'duplicate') duplicate++;
    else {
      rejected++;
      metrics.rejected.inc({ source, reason: o.rejection.reason });
    }
  }
  if (accepted) metrics.events.inc({ source, outcome: 'accepted' }, accepted);
  if (duplicate) metrics.events.inc({ source, outcome: 'duplicate' }, duplicate);
  if (rejected) metrics.events.inc({ source, outcome: 'rejected' }, rejected);
  metrics.batchSize.observe({ source }, outcomes.length);
}
