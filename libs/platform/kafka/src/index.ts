export * from './kafka-bus';
export * from './topics';
export * from './topic-check';
export * from './connection';
