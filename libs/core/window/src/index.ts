export * from './codec';
export * from './window';
export * from './stores';
export * from './applier';
export * from './user-vector';
export * from './window-update';
