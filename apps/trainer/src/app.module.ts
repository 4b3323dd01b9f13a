import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@seqrec/nest-platform';
import { TrainingModule, type TrainingEnv } from '@seqrec/training';

@Module({})
export class AppModule {
  static register(env: TrainingEnv): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot({ service: 'trainer', env }), TrainingModule.register(env)] };
  }
}
