export * from './bus';
export * from './memory-bus';
export * from './poison';
