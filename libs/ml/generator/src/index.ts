export * from './options';
export * from './random';
export * from './catalogue';
export * from './clickstream-generator';
export * from './sequences';
