import type { BootstrapOptions } from '@seqrec/nest-platform';
import { TRAINING_ROUTE_RULES, trainingEnv } from '@seqrec/training';
import { AppModule } from './app.module';

export const trainerService: BootstrapOptions<typeof trainingEnv> = {
  service: 'trainer',
  env: trainingEnv,
  defaultPort: 8084,
  module: (env) => AppModule.register(env),
  // every route is an admin's (unlisted ones would be too): listed so that the embedded process declares the same
  auth: { routes: TRAINING_ROUTE_RULES },
};
