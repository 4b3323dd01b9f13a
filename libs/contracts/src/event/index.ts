export * from './value';
export * from './key';
export * from './validate';
