export * from './artifacts';
export * from './item-similarity';
