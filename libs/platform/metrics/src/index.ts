export * from './registry';
export * from './cluster-metrics';
