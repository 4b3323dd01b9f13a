export * from './platform.constants';
export * from './platform.env';
export * from './platform.module';
export * from './readiness.service';
export * from './health.controller';
export * from './bus.server';
export * from './bootstrap';
export * from './cluster';
