import { ingestEnv } from '@seqrec/ingest';
import type { BootstrapOptions } from '@seqrec/nest-platform';
import { sequencingEnv } from '@seqrec/sequence-builder';
import { AppModule } from './app.module';
import { demoEnv } from './demo/demo.env';

const env = { ...ingestEnv, ...sequencingEnv, ...demoEnv };

export const embeddedService: BootstrapOptions<typeof env> = {
  service: 'embedded',
  env,
  defaultPort: 8080,
  bodyLimit: (e) => e.INGEST_MAX_BODY_BYTES,
  module: (e) => AppModule.register(e),
  // the builder's per-user reads stay admin (anything unlisted is)
  auth: { routes: { 'POST /v1/events': 'producer' } },
};
