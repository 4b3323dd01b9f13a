export * from './admission';
export * from './event-ingestor';
export * from './failpoints';
export * from './ingest.env';
export * from './ingest.module';
export * from './ingest.metrics';
export * from './ingest.controller';
export * from './raw-events.consumer';
