import { bool, num } from '@seqrec/config';

/** The ingester's variables (validated at start-up with the common ones). */
export const ingestEnv = {
  INGEST_MAX_EVENTS_PER_REQUEST: num({ default: 1_000, desc: 'most events one POST /v1/events may carry' }),
  INGEST_MAX_BODY_BYTES: num({ default: 1_048_576, desc: 'largest POST /v1/events body, bytes (413 above)' }),
  INGEST_MAX_EVENT_BYTES: num({ default: 16_384, desc: 'largest single event, bytes' }),
  INGEST_DEDUP_TTL_SECONDS: num({ default: 600, desc: 'how long an eventId is remembered to drop producer retries' }),
  INGEST_MAX_FUTURE_SKEW_SECONDS: num({ default: 300, desc: 'reject events stamped further in the future' }),
  INGEST_EXACTLY_ONCE: bool({
    default: true,
    desc: 'publish accepted events and commit raw offsets in one Kafka transaction (false: at-least-once, lower latency)',
  }),
  INGEST_MAX_AGE_DAYS: num({ default: 365, desc: 'reject events older than this' }),
};
