import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv, commonEnv } from '@seqrec/config';
import { EmbeddingModule, type embeddingEnv } from '@seqrec/embedding';
import { PlatformModule } from '@seqrec/nest-platform';

@Module({})
export class AppModule {
  static register(env: CleanedEnv<typeof commonEnv & typeof embeddingEnv>): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot({ service: 'embedding', env }), EmbeddingModule.register(env)] };
  }
}
