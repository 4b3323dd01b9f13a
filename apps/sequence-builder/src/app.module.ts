import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv, commonEnv } from '@seqrec/config';
import { PlatformModule } from '@seqrec/nest-platform';
import { SequencingModule, type sequencingEnv } from '@seqrec/sequence-builder';

@Module({})
export class AppModule {
  static register(env: CleanedEnv<typeof commonEnv & typeof sequencingEnv>): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: 'sequence-builder', env }), SequencingModule.register(env)],
    };
  }
}
