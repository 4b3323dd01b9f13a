export * from './event-ingestor';
export * from './ingest.env';
export * from './ingest.module';
export * from './ingest.metrics';
export * from './ingest.controller';
export * from './raw-events.consumer';
