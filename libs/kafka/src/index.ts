export * from './kafka-bus';
export * from './topics';
export * from './coordinator-cache';
