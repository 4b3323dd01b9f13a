import { HOLDOUT } from './assignment';
import { compareMeans, meanInterval, rateCounts, type MeanCounts } from './sequential';

/**
 * What an experiment has counted for one variant. An impression is one answer shown to a shopper
 * (request id, user, variant, items and positions); clicks and purchases join it by request id, or
 * by user and item within the attribution window. Each impression counts once in
 * `clickedImpressions` / `convertedImpressions` however many of its items were clicked or bought.
 */
export interface VariantCounts {
  impressions: number;
  /** Impressions with at least one attributed click on one of their top-K items. */
  clickedImpressions: number;
  /** Attributed clicks (an impression can have several). */
  clicks: number;
  /** Sum of the 1-based positions of the attributed clicks. */
  clickPositionSum: number;
  /** Impressions with at least one attributed purchase. */
  convertedImpressions: number;
  /** Attributed revenue, summed over impressions. */
  revenue: number;
  /** Sum over impressions of the square of each impression's attributed revenue. */
  revenueSq: number;
}

export const EMPTY_COUNTS: Readonly<VariantCounts> = Object.freeze({
  impressions: 0,
  clickedImpressions: 0,
  clicks: 0,
  clickPositionSum: 0,
  convertedImpressions: 0,
  revenue: 0,
  revenueSq: 0,
});

export const METRICS = ['ctr', 'conversion', 'revenue'] as const;
export type Metric = (typeof METRICS)[number];

export interface ReportOptions {
  /** Family-wise level over the comparisons of the primary metric (Bonferroni-split between them). Default 0.05. */
  alpha?: number;
  /** The metric the decision is made on. Default `ctr`. */
  primary?: Metric;
  /** The variant every other is compared with. Default: the first variant given. */
  control?: string;
  /** Mixture scale τ per metric, in the metric's units (see `compareMeans`). Defaults: ctr 0.01, conversion 0.005, revenue 1. */
  tau?: Partial<Record<Metric, number>>;
  /** p-values of earlier looks, by `${variant}:${metric}` (the running minimum is kept). */
  previous?: Readonly<Record<string, number>>;
}

export interface Interval {
  mean: number;
  low: number;
  high: number;
}

export interface VariantReport {
  name: string;
  impressions: number;
  /** Share of impressions with a click in the top K. */
  ctr: Interval;
  conversion: Interval;
  revenuePerImpression: Interval;
  /** Mean 1-based position of the clicked items; null without clicks. */
  meanClickPosition: number | null;
}

export interface Comparison {
  variant: string;
  metric: Metric;
  /** Variant minus control. */
  difference: number;
  /** difference / control mean; null when the control's mean is 0. */
  relative: number | null;
  /** Confidence sequence of the difference at the comparison's level. */
  low: number;
  high: number;
  p: number;
  significant: boolean;
}

export interface ExperimentReport {
  /** How the numbers were computed, in words. */
  method: string;
  alpha: number;
  /** Level of each primary comparison (alpha split between them). */
  comparisonAlpha: number;
  primary: Metric;
  control: string;
  variants: VariantReport[];
  comparisons: Comparison[];
  /** The variant declared best on the primary metric, or null while no comparison is significant. */
  winner: string | null;
  /** p-values to pass back as `previous` at the next look. */
  state: Record<string, number>;
}

const DEFAULT_TAU: Record<Metric, number> = { ctr: 0.01, conversion: 0.005, revenue: 1 };

function metricCounts(c: VariantCounts, m: Metric): MeanCounts {
  switch (m) {
    case 'ctr':
      return rateCounts(c.clickedImpressions, c.impressions);
    case 'conversion':
      return rateCounts(c.convertedImpressions, c.impressions);
    case 'revenue':
      return { n: c.impressions, sum: c.revenue, sumSq: c.revenueSq };
  }
}

/**
 * The experiment report: per variant CTR, conversion and revenue per impression with confidence
 * sequences, and each variant against the control on every metric with the mSPRT's always-valid
 * p-value, so the report stays valid however often it is read (fixed horizon not needed). The
 * holdout, when present, is reported like a variant but compared with nothing unless it is the
 * control. The decision is made on the primary metric only, at alpha split evenly between the
 * comparisons (Bonferroni); secondary metrics are shown at the same per-comparison level.
 */
export function experimentReport(counts: Readonly<Record<string, VariantCounts>>, options: ReportOptions = {}): ExperimentReport {
  const names = Object.keys(counts);
  if (names.length === 0) throw new RangeError('an experiment report needs at least one variant');
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const primary = options.primary ?? 'ctr';
  const control = options.control ?? names.find((n) => n !== HOLDOUT) ?? names[0]!;
  if (!(control in counts)) throw new RangeError(`control "${control}" has no counts`);
  const tau = { ...DEFAULT_TAU, ...options.tau };
  const treatments = names.filter((n) => n !== control && n !== HOLDOUT);
  const comparisonAlpha = alpha / Math.max(1, treatments.length);

  const variants: VariantReport[] = names.map((name) => {
    const c = counts[name]!;
    return {
      name,
      impressions: c.impressions,
      ctr: meanInterval(metricCounts(c, 'ctr'), comparisonAlpha, tau.ctr),
      conversion: meanInterval(metricCounts(c, 'conversion'), comparisonAlpha, tau.conversion),
      revenuePerImpression: meanInterval(metricCounts(c, 'revenue'), comparisonAlpha, tau.revenue),
      meanClickPosition: c.clicks > 0 ? c.clickPositionSum / c.clicks : null,
    };
  });

  const comparisons: Comparison[] = [];
  const state: Record<string, number> = {};
  for (const v of treatments) {
    for (const m of METRICS) {
      const key = `${v}:${m}`;
      const a = metricCounts(counts[control]!, m);
      const r = compareMeans(a, metricCounts(counts[v]!, m), comparisonAlpha, tau[m], options.previous?.[key] ?? 1);
      const controlMean = a.n > 0 ? a.sum / a.n : 0;
      comparisons.push({
        variant: v,
        metric: m,
        difference: r.difference,
        relative: controlMean !== 0 ? r.difference / controlMean : null,
        low: r.low,
        high: r.high,
        p: r.p,
        significant: r.significant,
      });
      state[key] = r.p;
    }
  }

  // Winner on the primary metric: of the variants significantly better than the control, the one
  // with the largest estimated gain; the control when every variant is significantly worse.
  const primaryComparisons = comparisons.filter((c) => c.metric === primary);
  const better = primaryComparisons.filter((c) => c.significant && c.difference > 0).sort((x, y) => y.difference - x.difference);
  let winner: string | null = null;
  if (better.length > 0) winner = better[0]!.variant;
  else if (primaryComparisons.length > 0 && primaryComparisons.every((c) => c.significant && c.difference < 0)) winner = control;

  return {
    method:
      `mSPRT (mixture sequential probability ratio test, normal mixture N(0, tau^2), tau ${primary} = ${tau[primary]}) ` +
      `on each variant minus "${control}": always-valid p-values and confidence sequences, valid at every look; ` +
      `alpha ${alpha} split over ${Math.max(1, treatments.length)} comparison(s) (Bonferroni), decision on ${primary}`,
    alpha,
    comparisonAlpha,
    primary,
    control,
    variants,
    comparisons,
    winner,
    state,
  };
}
