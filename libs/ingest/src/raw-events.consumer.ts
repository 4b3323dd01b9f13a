import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS } from '@seqrec/contracts';
import { BusContext, type BusHandlerExtras } from '@seqrec/nest-platform';
import { EventIngestor } from './event-ingestor';
import { INGEST_METRICS } from './ingest.constants';
import { countOutcomes, type IngestMetrics } from './ingest.metrics';

// Decorator arguments are fixed at load time, so this reads the raw variable; ingestEnv validates
// the same variable at start-up (a bad value stops the service before this matters).
const EXTRAS: BusHandlerExtras = { group: GROUPS.INGESTER, transactional: process.env.INGEST_EXACTLY_ONCE !== 'false' };

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
