import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv } from '@seqrec/config';
import type { Registry } from '@seqrec/metrics';
import { EVENT_CLAIMS, METRICS_REGISTRY } from '@seqrec/nest-platform';
import type { EventClaims } from '@seqrec/sequence';
import { EventIngestor } from './event-ingestor';
import { INGEST_METRICS, INGEST_OPTIONS } from './ingest.constants';
import { IngestController } from './ingest.controller';
import type { ingestEnv } from './ingest.env';
import { createIngestMetrics } from './ingest.metrics';
import { RawEventsConsumer } from './raw-events.consumer';

/** The ingester: raw topic consumer, `POST /v1/events`, validation, de-duplication, dead letters. */
@Module({})
export class IngestModule {
  static register(env: CleanedEnv<typeof ingestEnv>): DynamicModule {
    return {
      module: IngestModule,
      controllers: [IngestController, RawEventsConsumer],
      providers: [
        { provide: INGEST_OPTIONS, useValue: { maxEventsPerRequest: env.INGEST_MAX_EVENTS_PER_REQUEST } },
        { provide: INGEST_METRICS, inject: [METRICS_REGISTRY], useFactory: (r: Registry) => createIngestMetrics(r) },
        {
          provide: EventIngestor,
          inject: [EVENT_CLAIMS],
          useFactory: (claims: EventClaims) =>
            new EventIngestor(claims, {
              dedupTtlMs: env.INGEST_DEDUP_TTL_SECONDS * 1000,
              normalize: {
                maxEventBytes: env.INGEST_MAX_EVENT_BYTES,
                maxFutureSkewMs: env.INGEST_MAX_FUTURE_SKEW_SECONDS * 1000,
                maxAgeMs: env.INGEST_MAX_AGE_DAYS * 86_400_000,
              },
            }),
        },
      ],
    };
  }
}
