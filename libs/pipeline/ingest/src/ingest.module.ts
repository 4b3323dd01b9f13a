import { Logger, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { EnvError, type CleanedEnv } from '@seqrec/config';
import type { Registry } from '@seqrec/metrics';
import { EVENT_CLAIMS, METRICS_REGISTRY, PSEUDONYMIZER, type Pseudonymizer } from '@seqrec/nest-platform';
import type { EventClaims } from '@seqrec/window';
import { PublishAdmission } from './admission';
import { EventIngestor } from './event-ingestor';
import { Failpoints } from './failpoints';
import { CatalogueController } from './catalogue.controller';
import { CatalogueConsumer, type CatalogueOptions } from './catalogue.consumer';
import { CATALOGUE_OPTIONS, INGEST_ADMISSION, INGEST_FAILPOINTS, INGEST_METRICS, INGEST_OPTIONS } from './ingest.constants';
import { IngestController, type IngestHttpOptions } from './ingest.controller';
import type { ingestEnv } from './ingest.env';
import { createIngestMetrics } from './ingest.metrics';
import { RawEventsConsumer } from './raw-events.consumer';
import { UsersController } from './users.controller';
import { rawJsonBodyFor } from './raw-body';

/** The ingester: raw topic consumer, `POST /v1/events`, validation, de-duplication, dead letters; the catalogue's `POST /v1/items` / `DELETE /v1/items/{id}` and its items-topic consumer; user deletions and objections (`/v1/users/{id}`). */
@Module({})
export class IngestModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  static register(env: CleanedEnv<typeof ingestEnv>): DynamicModule {
    let failpoints: Failpoints;
    try {
      const log = new Logger('Failpoints');
      failpoints = new Failpoints(env.INGEST_FAILPOINTS, (m) => log.warn(m));
    } catch (err) {
      throw new EnvError({ INGEST_FAILPOINTS: (err as Error).message });
    }
    const admission = new PublishAdmission({ maxInFlightBytes: env.INGEST_MAX_IN_FLIGHT_BYTES, publishTimeoutMs: env.INGEST_PUBLISH_TIMEOUT_MS });
    const http: IngestHttpOptions = {
      maxEventsPerRequest: env.INGEST_MAX_EVENTS_PER_REQUEST,
      claimTimeoutMs: env.INGEST_CLAIM_TIMEOUT_MS,
      retryAfterSeconds: env.INGEST_RETRY_AFTER_SECONDS,
    };
    return {
      module: IngestModule,
      controllers: [IngestController, RawEventsConsumer, CatalogueController, CatalogueConsumer, UsersController],
      providers: [
        { provide: INGEST_OPTIONS, useValue: http },
        {
          provide: CATALOGUE_OPTIONS,
          useValue: {
            maxEventsPerRequest: env.INGEST_MAX_EVENTS_PER_REQUEST,
            maxDeadLetterOriginalBytes: env.INGEST_DLQ_MAX_ORIGINAL_BYTES,
            retryAfterSeconds: env.INGEST_RETRY_AFTER_SECONDS,
          } satisfies CatalogueOptions,
        },
        { provide: INGEST_FAILPOINTS, useValue: failpoints },
        { provide: INGEST_ADMISSION, useValue: admission },
        { provide: INGEST_METRICS, inject: [METRICS_REGISTRY], useFactory: (r: Registry) => createIngestMetrics(r, () => admission.inFlightBytes) },
        {
          provide: EventIngestor,
          inject: [EVENT_CLAIMS, PSEUDONYMIZER],
          useFactory: (claims: EventClaims, pseudonyms: Pseudonymizer) =>
            new EventIngestor(claims, {
              ...(pseudonyms.enabled ? { pseudonymize: (id: string) => pseudonyms.userId(id) } : {}),
              dedupTtlMs: env.INGEST_DEDUP_TTL_SECONDS * 1000,
              maxDeadLetterOriginalBytes: env.INGEST_DLQ_MAX_ORIGINAL_BYTES,
              normalize: {
                maxEventBytes: env.INGEST_MAX_EVENT_BYTES,
                maxFutureSkewMs: env.INGEST_MAX_FUTURE_SKEW_SECONDS * 1000,
                maxAgeMs: env.INGEST_MAX_AGE_DAYS * 86_400_000,
                maxContextDepth: env.INGEST_MAX_CONTEXT_DEPTH,
                maxContextKeys: env.INGEST_MAX_CONTEXT_KEYS,
                maxContextBytes: env.INGEST_MAX_CONTEXT_BYTES,
              },
            }),
        },
      ],
    };
  }

  onModuleInit(): void {
    rawJsonBodyFor(this.adapterHost, [
      ['POST', '/v1/events'],
      ['POST', '/v1/items'],
    ]);
  }
}
