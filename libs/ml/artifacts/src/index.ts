export * from './artifacts';
export * from './item-similarity';
export * from './loaded-model';
export * from './ivf-index';
export * from './graph-scorer';
export * from './explain';
