export * from './value';
export * from './key';
export * from './validate';
export * from './json-scan';
