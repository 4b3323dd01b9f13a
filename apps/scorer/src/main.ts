import { bootstrapService } from '@seqrec/nest-platform';
import { AppModule } from './app.module';

void bootstrapService({
  service: 'scorer',
  env: {},
  defaultPort: 8080,
  module: (env) => AppModule.register(env),
});
