export * from './services';
export * from './windows';
