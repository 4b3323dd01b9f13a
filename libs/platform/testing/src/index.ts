export * from './services';
export * from './windows';
export * from './ports';
