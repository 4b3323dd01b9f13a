export * from './value';
export * from './validate';
export * from './codec';
