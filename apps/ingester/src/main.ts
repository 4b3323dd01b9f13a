import { ingestEnv } from '@seqrec/ingest';
import { bootstrapService } from '@seqrec/nest-platform';
import { AppModule } from './app.module';

void bootstrapService({
  service: 'ingester',
  env: ingestEnv,
  defaultPort: 8081,
  bodyLimit: (env) => env.INGEST_MAX_BODY_BYTES,
  module: (env) => AppModule.register(env),
  auth: { routes: { 'POST /v1/events': 'producer', 'POST /v1/items': 'producer', 'DELETE /v1/items/*': 'producer', 'DELETE /v1/users/*': 'admin', 'PUT /v1/users/*': 'admin' } },
});
