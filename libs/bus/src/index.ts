export * from './bus';
export * from './memory-bus';
