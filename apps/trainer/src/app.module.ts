import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv, commonEnv } from '@seqrec/config';
import { PlatformModule } from '@seqrec/nest-platform';

@Module({})
export class AppModule {
  static register(env: CleanedEnv<typeof commonEnv>): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot({ service: 'trainer', env })] };
  }
}
