import { bootstrapService } from '@seqrec/nest-platform';
import { AppModule } from './app.module';

void bootstrapService({
  service: 'embedding',
  env: {},
  defaultPort: 8083,
  module: (env) => AppModule.register(env),
});
