import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv, commonEnv } from '@seqrec/config';
import { IngestModule, type ingestEnv } from '@seqrec/ingest';
import { PlatformModule } from '@seqrec/nest-platform';
import { SequencingModule, type sequencingEnv } from '@seqrec/sequence-builder';
import { DEMO_OPTIONS, DemoFeedService } from './demo/demo-feed.service';
import type { demoEnv } from './demo/demo.env';

export type EmbeddedEnv = CleanedEnv<typeof commonEnv & typeof ingestEnv & typeof sequencingEnv & typeof demoEnv>;

/**
 * Every seqrec service in one process. With KAFKA_BROKERS and REDIS_URL empty (the default) the
 * bus and the state are in memory: the quick start on a fresh machine.
 */
@Module({})
export class AppModule {
  static register(env: EmbeddedEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: 'embedded', env }), IngestModule.register(env), SequencingModule.register(env)],
      providers: [
        {
          provide: DEMO_OPTIONS,
          useValue: {
            eventsPerSec: env.DEMO_EVENTS_PER_SEC,
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
