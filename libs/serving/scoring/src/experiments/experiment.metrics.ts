import { LATENCY_BUCKETS, counter, gauge, histogram, type Counter, type Gauge, type Histogram, type Registry } from '@seqrec/metrics';
import type { FeedbackOutcome } from '@seqrec/experiments';

export interface ExperimentMetrics {
  variantInfo: Gauge<'experiment' | 'variant' | 'model'>;
  impressions: Counter<'experiment' | 'variant'>;
  clickedImpressions: Counter<'experiment' | 'variant'>;
  clicks: Counter<'experiment' | 'variant'>;
  clickPositions: Counter<'experiment' | 'variant'>;
  carts: Counter<'experiment' | 'variant'>;
  conversions: Counter<'experiment' | 'variant'>;
  revenue: Counter<'experiment' | 'variant'>;
  feedback: Counter<'experiment' | 'type' | 'outcome'>;
  published: Counter<'outcome'>;
  shadow: Counter<'route' | 'outcome'>;
  shadowOverlap: Histogram<'route'>;
  shadowDuration: Histogram;
}

/**
 * The experiment's online metrics. The per-variant counters are counted by the feedback join
 * (each impression and each event once, whichever scorer replica joins it: sum over instances);
 * CTR@K = clicked_impressions / impressions, conversion = conversions / impressions, mean click
 * position = click_positions / clicks. The report (`GET /v1/experiments/{id}/report`) reads the same
 * counts from the experiment store.
 */
export function createExperimentMetrics(registry: Registry): ExperimentMetrics {
  const perVariant = (name: string, help: string) => counter(registry, { name, help, labelNames: ['experiment', 'variant'] as const });
  return {
    variantInfo: gauge(registry, {
      name: 'seqrec_experiment_variant_info',
      help: 'Constant 1 for each variant of the active experiment this scorer serves, with the model (name@version) it answers with',
      labelNames: ['experiment', 'variant', 'model'],
    }),
    impressions: perVariant('seqrec_experiment_impressions_total', 'Impressions (answers shown while an experiment runs) counted by the feedback join, by variant'),
    clickedImpressions: perVariant('seqrec_experiment_clicked_impressions_total', 'Impressions with at least one attributed click in their top K (CTR@K numerator)'),
    clicks: perVariant('seqrec_experiment_clicks_total', 'Attributed clicks'),
    clickPositions: perVariant('seqrec_experiment_click_positions_total', 'Sum of the 1-based positions of attributed clicks (mean position = this / clicks)'),
    carts: perVariant('seqrec_experiment_carts_total', 'Attributed add-to-cart events'),
    conversions: perVariant('seqrec_experiment_conversions_total', 'Impressions with at least one attributed purchase'),
    revenue: perVariant('seqrec_experiment_revenue_total', 'Revenue of attributed purchases (the event\'s, else the catalogue price)'),
    feedback: counter(registry, {
      name: 'seqrec_experiment_feedback_total',
      help: 'Clicks, carts and purchases met by the feedback join, by outcome (request_id, subject_item: joined that way; pending: before its impression; unattributed; duplicate)',
      labelNames: ['experiment', 'type', 'outcome'],
    }),
    published: counter(registry, {
      name: 'seqrec_experiment_impressions_published_total',
      help: 'Impressions the scorer handed to the impressions topic, by outcome (published, failed, dropped: too many in flight)',
      labelNames: ['outcome'],
    }),
    shadow: counter(registry, {
      name: 'seqrec_shadow_requests_total',
      help: "Impressions of the shadow's sample, by the answer's route and outcome (scored by the shadow model, off the request path where the feedback join runs; skipped: its queue was full, the shadow is behind its SCORER_SHADOW_MAX_LOAD, or its experiment was not in force in this process within 30 s; failed)",
      labelNames: ['route', 'outcome'],
    }),
    shadowOverlap: histogram(registry, {
      name: 'seqrec_shadow_overlap_ratio',
      help: "Share of the served answer's top K items (the experiment's K) the shadow model also put in its top K, by route",
      labelNames: ['route'],
      buckets: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    }),
    shadowDuration: histogram(registry, { name: 'seqrec_shadow_duration_seconds', help: 'Time the shadow model took for one request', buckets: LATENCY_BUCKETS }),
  };
}

/** Counts one join outcome (only the first application of an impression or event reaches here as joined). */
export function countOutcome(m: ExperimentMetrics, experiment: string, o: FeedbackOutcome, type: string): void {
  if (o.status !== 'joined') {
    m.feedback.inc({ experiment, type, outcome: o.status });
    return;
  }
  m.feedback.inc({ experiment, type, outcome: o.attribution });
  const labels = { experiment, variant: o.variant };
  if (o.type === 'click') {
    m.clicks.inc(labels);
    m.clickPositions.inc(labels, o.position);
    if (o.newlyClicked) m.clickedImpressions.inc(labels);
  } else if (o.type === 'add_to_cart') m.carts.inc(labels);
  else {
    if (o.newlyConverted) m.conversions.inc(labels);
    if (o.revenue > 0) m.revenue.inc(labels, o.revenue);
  }
}
