import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { loadEnv } from '@seqrec/config';
import { GROUPS, TOPICS } from '@seqrec/contracts';
import { BusContext, type BusHandlerExtras } from '@seqrec/nest-platform';
import { EventIngestor } from './event-ingestor';
import { INGEST_METRICS } from './ingest.constants';
import { ingestEnv } from './ingest.env';
import { countOutcomes, type IngestMetrics } from './ingest.metrics';

/**
 * The raw consumer's subscription options. Decorator arguments are fixed when this module loads, so
 * INGEST_EXACTLY_ONCE is parsed here with the same spec the start-up validation uses (`0`, `f`,
 * `false`... all mean off); an invalid value stops the service at start-up before this matters.
 */
export function rawConsumerExtras(env: NodeJS.ProcessEnv = process.env): BusHandlerExtras {
  let transactional = true;
  try {
    transactional = loadEnv({ INGEST_EXACTLY_ONCE: ingestEnv.INGEST_EXACTLY_ONCE }, env).INGEST_EXACTLY_ONCE;
  } catch {
    // reported by the start-up validation
  }
  // A message that keeps failing (not a validation failure: those are dead letters already) is
  // dead-lettered after 5 tries instead of stopping the partition.
  return { group: GROUPS.INGESTER, transactional, deadLetterTopic: TOPICS.EVENTS_DLQ };
}

const EXTRAS = rawConsumerExtras();

/**
 * Consumes the raw clickstream. With INGEST_EXACTLY_ONCE (default) accepted events and dead letters
 * are published in the same transaction that commits the raw offsets: a crash re-runs the batch and
 * publishes nothing twice. Without it, a crash between publishing and committing republishes that
 * batch (at-least-once) in exchange for lower latency.
 */
@Controller()
export class RawEventsConsumer {
  constructor(
    private readonly ingestor: EventIngestor,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
  ) {}

  @EventPattern(TOPICS.CLICKSTREAM_RAW, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch, @Ctx() ctx: BusContext): Promise<void> {
    const end = this.metrics.batchDuration.startTimer({ source: 'kafka' });
    const result = await this.ingestor.ingest(
      batch.messages.map((m) => ({
        payload: m.value ?? Buffer.alloc(0),
        source: { kind: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset },
        claimSource: `k:${m.partition}:${m.offset}`,
      })),
    );
    ctx.publish(result.messages);
    countOutcomes(this.metrics, 'kafka', result.outcomes);
    end();
  }
}
