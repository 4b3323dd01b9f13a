import { BATCH_BUCKETS, LATENCY_BUCKETS, counter, histogram, type Counter, type Histogram, type Registry } from '@seqrec/metrics';

export interface SequencingMetrics {
  events: Counter<'outcome'>;
  erasures: Counter<'outcome'>;
  conflicts: Counter;
  corruptWindows: Counter;
  updates: Counter;
  sessionUpdates: Counter;
  merges: Counter<'outcome'>;
  trending: Counter;
  batchSize: Histogram;
  applyDuration: Histogram;
  eventLag: Histogram;
}

export function createSequencingMetrics(registry: Registry): SequencingMetrics {
  return {
    events: counter(registry, {
      name: 'seqrec_sequence_builder_events_total',
      help: 'Events by outcome: applied, stale (already applied: redelivery), too_late (older than a full window), invalid, deleted (their user was deleted after them, or objects to profiling)',
      labelNames: ['outcome'],
    }),
    erasures: counter(registry, {
      name: 'seqrec_sequence_builder_user_erasures_total',
      help: 'Records of the deletions topic by outcome: applied (the user\'s state erased), covered (the store had it, or a later one, already; or it is older than the marker\'s lifetime), invalid',
      labelNames: ['outcome'],
    }),
    conflicts: counter(registry, {
      name: 'seqrec_sequence_builder_write_conflicts_total',
      help: 'Window writes retried because another writer changed the window meanwhile',
    }),
    corruptWindows: counter(registry, {
      name: 'seqrec_sequence_builder_corrupt_windows_total',
      help: 'Stored windows that did not decode: replaced by a window rebuilt from the new events, their bytes dead-lettered (reason corrupt_window)',
    }),
    updates: counter(registry, {
      name: 'seqrec_sequence_builder_window_updates_total',
      help: 'User windows updated (one per user per batch)',
    }),
    sessionUpdates: counter(registry, {
      name: 'seqrec_sequence_builder_session_updates_total',
      help: 'Anonymous session windows updated (one per session per batch)',
    }),
    merges: counter(registry, {
      name: 'seqrec_sequence_builder_session_merges_total',
      help: "Logins (events with a userId and a sessionId) by merge outcome: merged (the session's window went into the user's), empty (the session had no events: closed, its later anonymous events go to the user), before (merged earlier: redelivery or a later event), taken (the session had merged into another user)",
      labelNames: ['outcome'],
    }),
    trending: counter(registry, {
      name: 'seqrec_sequence_builder_trending_events_total',
      help: 'Item events counted into the live trending items (each once: a redelivery counts nothing)',
    }),
    batchSize: histogram(registry, {
      name: 'seqrec_sequence_builder_batch_size_events',
      help: 'Events per consumed batch',
      buckets: BATCH_BUCKETS,
    }),
    applyDuration: histogram(registry, {
      name: 'seqrec_sequence_builder_apply_duration_seconds',
      help: 'Time to apply one batch to the state store (read, merge, conditional write)',
      buckets: LATENCY_BUCKETS,
    }),
    eventLag: histogram(registry, {
      name: 'seqrec_sequence_builder_event_lag_seconds',
      help: 'From the event reaching the events topic to its window being written',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
  };
}
