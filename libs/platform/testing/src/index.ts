export * from './services';
export * from './windows';
export * from './ports';
export * from './embedded';
export * from './metrics';
