import { BATCH_BUCKETS, LATENCY_BUCKETS, counter, gauge, histogram, type Counter, type Gauge, type Histogram, type Registry } from '@seqrec/metrics';

export interface ScoringMetrics {
  requestDuration: Histogram<'route' | 'status'>;
  requests: Counter<'route' | 'status'>;
  batchSize: Histogram<'kind'>;
  batchDuration: Histogram<'kind'>;
  inlineEncode: Histogram;
  exactTopK: Histogram;
  exactRescored: Histogram;
  queueDepth: Gauge;
  shed: Counter<'reason'>;
  fallbacks: Counter<'route' | 'reason'>;
  modelInfo: Gauge<'model' | 'version' | 'backend'>;
  modelAge: Gauge;
  modelSwaps: Counter<'outcome'>;
  indexRecall: Gauge<'model' | 'version'>;
  indexInUse: Gauge<'model' | 'version'>;
}

/** Scorer metrics; `modelAge` is filled by a collect callback from the served model's creation time. */
export function createScoringMetrics(registry: Registry, modelCreatedAt: () => number | null): ScoringMetrics {
  const metrics: ScoringMetrics = {
    requestDuration: histogram(registry, {
      name: 'seqrec_scorer_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['route', 'status'],
      buckets: LATENCY_BUCKETS,
    }),
    requests: counter(registry, {
      name: 'seqrec_scorer_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
    }),
    batchSize: histogram(registry, {
      name: 'seqrec_scorer_batch_size_requests',
      help: 'Requests scored together in one forward pass, by kind (topk, rank)',
      labelNames: ['kind'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, ...BATCH_BUCKETS.filter((b) => b > 256)],
    }),
    batchDuration: histogram(registry, {
      name: 'seqrec_scorer_batch_duration_seconds',
      help: 'Time of one forward pass (encode, score, top-k), by kind',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
    }),
    inlineEncode: histogram(registry, {
      name: 'seqrec_scorer_inline_encode_seconds',
      help: 'Time to encode one live window inline (SASRec, GRU4Rec, LSTM in WebAssembly SIMD, no batch)',
      buckets: LATENCY_BUCKETS,
    }),
    exactTopK: histogram(registry, {
      name: 'seqrec_scorer_exact_topk_seconds',
      help: 'Time of one exact top-k for a user vector (SCORER_EXACT_TOPK=int8: int8 SIMD scan of the item table and full-precision rescoring, no batch)',
      buckets: LATENCY_BUCKETS,
    }),
    exactRescored: histogram(registry, {
      name: 'seqrec_scorer_exact_topk_rescored_items',
      help: 'Items an exact top-k rescored in full precision after the int8 scan bounded every score (the bound\'s tightness: ~k when tight)',
      buckets: [1, 10, 20, 50, 100, 200, 500, 1_000, 5_000, 20_000, 100_000],
    }),
    queueDepth: gauge(registry, { name: 'seqrec_scorer_queue_depth_requests', help: 'Requests waiting for a forward pass' }),
    shed: counter(registry, {
      name: 'seqrec_scorer_shed_requests_total',
      help: 'Requests refused to protect latency (queue_full, queue_wait, queue_timeout: 429; event_loop, no_model: 503)',
      labelNames: ['reason'],
    }),
    fallbacks: counter(registry, {
      name: 'seqrec_scorer_fallback_answers_total',
      help: 'Answers from the popularity fallback, by route and reason (unknown_user, no_known_items, unknown_item)',
      labelNames: ['route', 'reason'],
    }),
    modelInfo: gauge(registry, {
      name: 'seqrec_scorer_model_info',
      help: 'Constant 1 for the served model, labelled with its name, version and TF.js backend',
      labelNames: ['model', 'version', 'backend'],
    }),
    modelAge: gauge(registry, {
      name: 'seqrec_scorer_model_age_seconds',
      help: 'Seconds since the served model version was created',
      collect() {
        const t = modelCreatedAt();
        if (t !== null) this.set((Date.now() - t) / 1000);
      },
    }),
    modelSwaps: counter(registry, {
      name: 'seqrec_scorer_model_swaps_total',
      help: 'Model loads on start, announcement or poll, by outcome (loaded, failed, unchanged, refused: trained before a user deletion)',
      labelNames: ['outcome'],
    }),
    indexRecall: gauge(registry, {
      name: 'seqrec_scorer_index_recall_at_20_ratio',
      help: 'recall@20 of the approximate top-k index against exact top-k, measured when the model was loaded (absent: no index was built)',
      labelNames: ['model', 'version'],
    }),
    indexInUse: gauge(registry, {
      name: 'seqrec_scorer_index_in_use',
      help: '1 when the approximate top-k index serves the version, 0 when its recall at load was below SCORER_INDEX_MIN_RECALL and exact top-k serves it (absent: no index was built)',
      labelNames: ['model', 'version'],
    }),
  };
  // every shed reason starts at 0: rate() over "never shed" is 0, not "no data"
  for (const reason of ['queue_full', 'queue_wait', 'queue_timeout', 'event_loop', 'no_model']) metrics.shed.inc({ reason }, 0);
  return metrics;
}
