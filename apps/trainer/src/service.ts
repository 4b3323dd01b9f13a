import type { BootstrapOptions } from '@seqrec/nest-platform';
import { trainingEnv } from '@seqrec/training';
import { AppModule } from './app.module';

export const trainerService: BootstrapOptions<typeof trainingEnv> = {
  service: 'trainer',
  env: trainingEnv,
  defaultPort: 8084,
  module: (env) => AppModule.register(env),
};
