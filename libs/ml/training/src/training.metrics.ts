import { counter, gauge, histogram, type Counter, type Gauge, type Histogram, type Registry } from '@seqrec/metrics';

export interface TrainingMetrics {
  runs: Counter<'model' | 'outcome'>;
  runDuration: Histogram<'model'>;
  lastMetric: Gauge<'model' | 'split' | 'protocol' | 'metric'>;
  lastRunTimestamp: Gauge<'model'>;
  backend: Gauge<'backend' | 'native'>;
  running: Gauge;
  manualPromotions: Counter<'model' | 'outcome'>;
}

/** Run durations, seconds: 1 s .. 6 h. */
export const RUN_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600, 7_200, 21_600];

export function createTrainingMetrics(registry: Registry): TrainingMetrics {
  return {
    runs: counter(registry, {
      name: 'seqrec_trainer_runs_total',
      help: 'Training runs by model and outcome (promoted, not_promoted, failed)',
      labelNames: ['model', 'outcome'],
    }),
    runDuration: histogram(registry, {
      name: 'seqrec_trainer_run_duration_seconds',
      help: 'Wall time of a training run: load, train, evaluate, save',
      labelNames: ['model'],
      buckets: RUN_BUCKETS,
    }),
    lastMetric: gauge(registry, {
      name: 'seqrec_trainer_last_metric_ratio',
      help: 'Evaluation metrics of the last completed run, by model, split (valid, test), protocol (full, sampled) and metric (NDCG@10, HR@10, ...)',
      labelNames: ['model', 'split', 'protocol', 'metric'],
    }),
    lastRunTimestamp: gauge(registry, {
      name: 'seqrec_trainer_last_run_timestamp_seconds',
      help: 'End of the last completed run, Unix time',
      labelNames: ['model'],
    }),
    backend: gauge(registry, {
      name: 'seqrec_trainer_backend_info',
      help: 'Constant 1, labelled with the TF.js backend in use (native=false means a slow fallback)',
      labelNames: ['backend', 'native'],
    }),
    running: gauge(registry, { name: 'seqrec_trainer_running_runs', help: 'Training runs in progress (0 or 1)' }),
    manualPromotions: counter(registry, {
      name: 'seqrec_trainer_manual_promotions_total',
      help: 'Promotions by an operator (POST /v1/models/{version}/promote, rollbacks) by model and outcome (promoted, already_promoted, trained_before_deletion)',
      labelNames: ['model', 'outcome'],
    }),
  };
}
