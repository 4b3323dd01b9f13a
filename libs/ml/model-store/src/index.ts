export * from './model-store';
export * from './model-store.env';
