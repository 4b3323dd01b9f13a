import { bool, num, positiveWhole, str, whole } from '@seqrec/config';

/** The ingester's variables (validated at start-up with the common ones). */
export const ingestEnv = {
  INGEST_MAX_EVENTS_PER_REQUEST: num({ default: 1_000, desc: 'most events one POST /v1/events may carry' }),
  INGEST_MAX_BODY_BYTES: positiveWhole({ default: 1_048_576, desc: 'largest POST /v1/events body, bytes (413 above)' }),
  INGEST_MAX_EVENT_BYTES: num({ default: 16_384, desc: 'largest single event, bytes (an HTTP body element or a raw message)' }),
  INGEST_MAX_CONTEXT_DEPTH: whole({ default: 8, desc: 'deepest context: the context object is level 1, an object or array in it level 2, ...' }),
  INGEST_MAX_CONTEXT_KEYS: whole({ default: 64, desc: 'most keys in context, all levels, unknown top-level fields included' }),
  INGEST_MAX_CONTEXT_BYTES: whole({ default: 4_096, desc: 'largest context as JSON, bytes' }),
  INGEST_DLQ_MAX_ORIGINAL_BYTES: whole({
    default: 65_536,
    desc: 'a dead letter keeps at most this many bytes of the original payload (then: truncated, with its length and SHA-256)',
  }),
  INGEST_DEDUP_TTL_SECONDS: num({ default: 600, desc: 'how long an eventId is remembered: a retry within this window is never duplicated' }),
  INGEST_MAX_FUTURE_SKEW_SECONDS: num({ default: 300, desc: 'reject events stamped further in the future' }),
  INGEST_EXACTLY_ONCE: bool({
    default: true,
    desc: 'publish accepted events and commit raw offsets in one Kafka transaction (false: at-least-once, lower latency)',
  }),
  INGEST_MAX_AGE_DAYS: num({ default: 365, desc: 'reject events older than this' }),
  INGEST_MAX_IN_FLIGHT_BYTES: whole({
    default: 16_777_216,
    desc: 'POST /v1/events bodies being published (until Kafka acknowledged them or gave up), bytes; beyond it: 503 + Retry-After',
  }),
  INGEST_PUBLISH_TIMEOUT_MS: whole({
    default: 500,
    desc: 'POST /v1/events answers 503 + Retry-After when Kafka has not acknowledged its events after this long, and refuses new requests at once while any publish is older',
  }),
  INGEST_CLAIM_TIMEOUT_MS: whole({
    default: 250,
    desc: 'POST /v1/events waits this long for the de-duplication claims after publishing; past it the events count as accepted (the raw consumer de-duplicates them)',
  }),
  INGEST_RETRY_AFTER_SECONDS: whole({ default: 1, desc: 'Retry-After of the 503 answers' }),
  INGEST_FAILPOINTS: str({ default: '', desc: 'tests only: fault injection points (libs/pipeline/ingest/src/failpoints.ts); empty in production' }),
};
