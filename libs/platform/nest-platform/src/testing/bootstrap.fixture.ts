/**
 * The smallest seqrec service for bootstrap.spec: the platform module (health routes, the in-memory
 * bus and state when KAFKA_BROKERS / REDIS_URL are empty) and a provider that takes 200 ms to shut
 * down, as a consumer finishing its batch does; started by bootstrapService from the process
 * environment, as every service's main.ts is.
 */
import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { bootstrapService } from '../bootstrap';
import { PlatformModule } from '../platform.module';

class SlowDrain implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 200));
  }
}

@Module({ providers: [SlowDrain] })
class DrainModule {}

void bootstrapService({
  service: 'fixture',
  env: {},
  defaultPort: 18_999,
  module: (env) => ({ module: DrainModule, imports: [PlatformModule.forRoot({ service: 'fixture', env })] }),
});
