export * from './options';
export * from './catalogue';
export * from './clickstream-generator';
export * from './sequences';
export * from './shoppers';
