import { bootstrapService } from '@seqrec/nest-platform';
import { AppModule } from './app.module';

void bootstrapService({
  service: 'trainer',
  env: {},
  defaultPort: 8084,
  module: (env) => AppModule.register(env),
});
