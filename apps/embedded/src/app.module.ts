import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv, commonEnv } from '@seqrec/config';
import { EmbeddingModule, type embeddingEnv } from '@seqrec/embedding';
import { IngestModule, type ingestEnv } from '@seqrec/ingest';
import { PlatformModule } from '@seqrec/nest-platform';
import { ConsoleModule, ScoringModule, type scoringEnv } from '@seqrec/scoring';
import { SequencingModule, type sequencingEnv } from '@seqrec/sequence-builder';
import { TrainingModule, type trainingEnv } from '@seqrec/training';
import { DEMO_OPTIONS, DemoFeedService } from './demo/demo-feed.service';
import type { demoEnv } from './demo/demo.env';

export type EmbeddedEnv = CleanedEnv<
  typeof commonEnv & typeof ingestEnv & typeof sequencingEnv & typeof trainingEnv & typeof embeddingEnv & typeof scoringEnv & typeof demoEnv
>;

/**
 * Every seqrec service in one process: ingester → sequence-builder → trainer → embedding →
 * scorer, the same modules as the distributed services. With KAFKA_BROKERS and REDIS_URL empty
 * (the default) the bus and the state are in memory: the quick start on a fresh machine. Training
 * runs in a child process (TRAIN_ISOLATION=process) so the scorer's event loop never waits for it.
 */
@Module({})
export class AppModule {
  static register(env: EmbeddedEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: 'embedded', env }),
        IngestModule.register(env),
        SequencingModule.register(env),
        TrainingModule.register(env),
        // the scorer serves GET /v1/items/{id}/similar
        EmbeddingModule.register(env, { http: false }),
        ScoringModule.register(env),
        // the operator console at /console/ (CONSOLE_ENABLED, on here by default)
        ConsoleModule.register(env),
      ],
      providers: [
        {
          provide: DEMO_OPTIONS,
          useValue: {
            eventsPerSec: env.DEMO_EVENTS_PER_SEC,
            backfillEvents: env.DEMO_BACKFILL_EVENTS,
            trainOnStart: env.DEMO_TRAIN_ON_START,
            seed: env.DEMO_SEED,
            users: env.DEMO_USERS,
            items: env.DEMO_ITEMS,
            reportSeconds: env.DEMO_REPORT_SECONDS,
            sessionGapMs: env.SESSION_GAP_MINUTES * 60_000,
          },
        },
        DemoFeedService,
      ],
    };
  }
}
