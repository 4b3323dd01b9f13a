export * from './model-store';
