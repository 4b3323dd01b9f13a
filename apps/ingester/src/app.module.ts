import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv, commonEnv } from '@seqrec/config';
import { IngestModule, type ingestEnv } from '@seqrec/ingest';
import { PlatformModule } from '@seqrec/nest-platform';

@Module({})
export class AppModule {
  static register(env: CleanedEnv<typeof commonEnv & typeof ingestEnv>): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot({ service: 'ingester', env }), IngestModule.register(env)] };
  }
}
