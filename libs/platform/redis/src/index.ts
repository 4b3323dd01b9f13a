export * from './cluster';
export * from './scripts';
export * from './connection';
export * from './get-buffers';
export * from './sequence-store';
export * from './item-dictionary';
export * from './event-claims';
export * from './catalogue-store';
