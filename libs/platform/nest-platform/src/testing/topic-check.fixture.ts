/**
 * A seqrec service with nothing but the platform (bus, state, health, metrics), started like every
 * app with bootstrapService: topic-check.int.spec runs it to see a strict topic check stop it
 * before it listens.
 */
import { Module } from '@nestjs/common';
import { bootstrapService } from '../bootstrap';
import { PlatformModule } from '../platform.module';

@Module({})
class FixtureModule {}

void bootstrapService({
  service: 'fixture',
  env: {},
  defaultPort: 8090,
  module: (env) => ({ module: FixtureModule, imports: [PlatformModule.forRoot({ service: 'fixture', env })] }),
});
