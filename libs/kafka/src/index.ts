export * from './kafka-bus';
export * from './topics';
