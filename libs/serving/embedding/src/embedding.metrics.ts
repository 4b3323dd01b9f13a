import { BATCH_BUCKETS, LATENCY_BUCKETS, counter, gauge, histogram, type Counter, type Gauge, type Histogram, type Registry } from '@seqrec/metrics';

export interface EmbeddingMetrics {
  batchSize: Histogram;
  encodeDuration: Histogram;
  vectors: Counter<'outcome'>;
  lag: Histogram;
  modelInfo: Gauge<'model' | 'version' | 'backend'>;
  modelAge: Gauge;
}

export function createEmbeddingMetrics(registry: Registry, modelCreatedAt: () => number | null): EmbeddingMetrics {
  return {
    batchSize: histogram(registry, { name: 'seqrec_embedding_batch_size_users', help: 'User windows encoded per forward pass', buckets: BATCH_BUCKETS }),
    encodeDuration: histogram(registry, {
      name: 'seqrec_embedding_encode_duration_seconds',
      help: 'Time to encode one batch of windows and store the vectors',
      buckets: LATENCY_BUCKETS,
    }),
    vectors: counter(registry, {
      name: 'seqrec_embedding_vectors_total',
      help: 'User windows handled, by outcome (stored; skipped: no item known to the model; no_model; graph_model: the served model has no user vectors; deleted: the user was deleted after the window was written, or objects)',
      labelNames: ['outcome'],
    }),
    lag: histogram(registry, {
      name: 'seqrec_embedding_lag_seconds',
      help: 'From the window update being written (updatedAt) to its vector being stored',
      buckets: LATENCY_BUCKETS,
    }),
    modelInfo: gauge(registry, {
      name: 'seqrec_embedding_model_info',
      help: 'Constant 1 for the model encoding windows, labelled with its name, version and TF.js backend',
      labelNames: ['model', 'version', 'backend'],
    }),
    modelAge: gauge(registry, {
      name: 'seqrec_embedding_model_age_seconds',
      help: 'Seconds since the model version in use was created',
      collect() {
        const t = modelCreatedAt();
        if (t !== null) this.set((Date.now() - t) / 1000);
      },
    }),
  };
}
