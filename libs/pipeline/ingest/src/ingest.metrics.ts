import { BATCH_BUCKETS, LATENCY_BUCKETS, counter, gauge, histogram, type Counter, type Histogram, type Registry } from '@seqrec/metrics';
import type { IngestOutcome } from './event-ingestor';

export interface IngestMetrics {
  events: Counter<'source' | 'outcome'>;
  rejected: Counter<'source' | 'reason'>;
  batchSize: Histogram<'source'>;
  batchDuration: Histogram<'source'>;
  /** POST /v1/events answered 503, by cause. */
  shed: Counter<'reason'>;
  /** Events of POST /v1/events answered accepted without knowing their claim (the claim store did not answer in time). */
  claimsUnknown: Counter;
  /** Dead letters of POST /v1/events not written again: a retry of the same producer's same rejected element. */
  deadLettersRepeated: Counter;
}

/** @param inFlightBytes the admission's bytes being published, read at each scrape */
export function createIngestMetrics(registry: Registry, inFlightBytes: () => number = () => 0): IngestMetrics {
  gauge(registry, {
    name: 'seqrec_ingester_in_flight_bytes',
    help: 'POST /v1/events bodies being published (until Kafka acknowledged or gave up); 503 above INGEST_MAX_IN_FLIGHT_BYTES',
    collect() {
      this.set(inFlightBytes());
    },
  });
  return {
    events: counter(registry, {
      name: 'seqrec_ingester_events_total',
      help: 'Input events by source (kafka, http) and outcome (accepted, duplicate, rejected)',
      labelNames: ['source', 'outcome'],
    }),
    rejected: counter(registry, {
      name: 'seqrec_ingester_rejected_events_total',
      help: 'Rejected events by reason (each is on the dead-letter topic; an HTTP retry\'s repeated ones once)',
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
    shed: counter(registry, {
      name: 'seqrec_ingester_http_unavailable_total',
      help: 'POST /v1/events answered 503 + Retry-After, by reason: full (in-flight limit), bus_unavailable, bus_stalled (Kafka not acknowledging), publish_timeout, publish_failed, internal',
      labelNames: ['reason'],
    }),
    claimsUnknown: counter(registry, {
      name: 'seqrec_ingester_http_claims_unknown_total',
      help: 'Events of POST /v1/events answered accepted while the claim store did not answer in time (the raw consumer still de-duplicates them)',
    }),
    deadLettersRepeated: counter(registry, {
      name: 'seqrec_ingester_dead_letters_repeated_total',
      help: 'Dead letters of POST /v1/events not written again: the same producer sent the same rejected element within INGEST_DEDUP_TTL_SECONDS (a retry)',
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
