import { bootstrapService } from '@seqrec/nest-platform';
import { sequencingEnv } from '@seqrec/sequence-builder';
import { AppModule } from './app.module';

void bootstrapService({
  service: 'sequence-builder',
  env: sequencingEnv,
  defaultPort: 8082,
  module: (env) => AppModule.register(env),
});
