import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv, commonEnv } from '@seqrec/config';
import type { RedisKeys } from '@seqrec/contracts';
import type { Registry } from '@seqrec/metrics';
import { FsModelStore } from '@seqrec/model-store';
import { METRICS_REGISTRY, REDIS, REDIS_KEYS } from '@seqrec/nest-platform';
import type { RedisClient } from '@seqrec/redis';
import { EmbeddingController } from './embedding.controller';
import { EMBEDDING_METRICS, EMBEDDING_MODEL_STORE, EMBEDDING_OPTIONS, USER_VECTORS } from './embedding.constants';
import type { embeddingEnv } from './embedding.env';
import { createEmbeddingMetrics } from './embedding.metrics';
import { EmbeddingService } from './embedding.service';
import { SequenceUpdatesConsumer } from './sequence-updates.consumer';
import { MemoryUserVectorStore, RedisUserVectorStore } from './user-vectors';

/** The embedding service: window updates → user vectors in the state store; item and user endpoints. */
@Module({})
export class EmbeddingModule {
  /**
   * @param options.http serve the item and user routes (default true); false where another module
   *   of the process serves `GET /v1/items/{id}/similar` (embedded mode: the scorer)
   */
  static register(env: CleanedEnv<typeof embeddingEnv & Pick<typeof commonEnv, 'SEQUENCE_TTL_DAYS'>>, options: { http?: boolean } = {}): DynamicModule {
    let service: EmbeddingService | null = null;
    return {
      module: EmbeddingModule,
      controllers: options.http === false ? [SequenceUpdatesConsumer] : [EmbeddingController, SequenceUpdatesConsumer],
      providers: [
        { provide: EMBEDDING_OPTIONS, useValue: { modelName: env.MODEL_NAME, maxBatch: env.EMBEDDING_MAX_BATCH, sessionGapMs: env.SESSION_GAP_MINUTES * 60_000, backend: env } },
        { provide: EMBEDDING_MODEL_STORE, useValue: new FsModelStore(env.MODEL_STORE_DIR) },
        {
          provide: USER_VECTORS,
          inject: [REDIS, REDIS_KEYS],
          useFactory: (redis: RedisClient | null, keys: RedisKeys) =>
            redis ? new RedisUserVectorStore(redis, keys, env.SEQUENCE_TTL_DAYS * 86_400_000) : new MemoryUserVectorStore(),
        },
        {
          provide: EMBEDDING_METRICS,
          inject: [METRICS_REGISTRY],
          useFactory: (r: Registry) => createEmbeddingMetrics(r, () => service?.model?.createdAt ?? null),
        },
        {
          provide: EmbeddingService,
          useClass: EmbeddingService,
        },
        {
          provide: 'SEQREC_EMBEDDING_SELF',
          inject: [EmbeddingService],
          useFactory: (s: EmbeddingService) => (service = s),
        },
      ],
      exports: [EmbeddingService],
    };
  }
}
