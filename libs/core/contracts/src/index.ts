export * from './topics';
export * from './redis-keys';
export * from './event';
export * from './dlq';
export * from './sequence';
export * from './model';
export * from './errors';
export * from './item';
