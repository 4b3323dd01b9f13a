export * from './sequencing.env';
export * from './sequencing.module';
export * from './item-categories';
export * from './sequencing.metrics';
export * from './sequence-builder.consumer';
export * from './deletions.consumer';
