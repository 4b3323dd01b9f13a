import { embeddingEnv } from '@seqrec/embedding';
import type { BootstrapOptions } from '@seqrec/nest-platform';
import { AppModule } from './app.module';

/** How the embedding service is built; shared by main.ts and the in-process tests. */
export const embeddingService: BootstrapOptions<typeof embeddingEnv> = {
  service: 'embedding',
  env: embeddingEnv,
  defaultPort: 8083,
  module: (env) => AppModule.register(env),
  // item vectors and neighbours reveal no user: the scorer clients' role; user vectors and features stay admin
  auth: { routes: { 'GET /v1/items/*': 'client' } },
};
