import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv, commonEnv } from '@seqrec/config';
import { PlatformModule } from '@seqrec/nest-platform';
import { ConsoleModule, ScoringModule, type scoringEnv } from '@seqrec/scoring';

@Module({})
export class AppModule {
  static register(env: CleanedEnv<typeof commonEnv & typeof scoringEnv>): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot({ service: 'scorer', env }), ScoringModule.register(env), ConsoleModule.register(env)] };
  }
}
