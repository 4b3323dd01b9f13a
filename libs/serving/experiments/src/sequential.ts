/**
 * The always-valid sequential test of the experiment report: the mixture sequential probability
 * ratio test (mSPRT) with a normal mixing distribution, for the difference of two means (a rate is
 * the mean of 0/1 outcomes), in the normal approximation.
 *
 * Johari, Koomen, Pekelis, Walsh, "Peeking at A/B Tests: Why it matters, and what to do about it"
 * (KDD 2017) and "Always Valid Inference" (Operations Research 2022). With an estimate θ̂ of the
 * difference, its variance V and a mixture N(0, τ²) over the alternative,
 *
 *   Λ = sqrt(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²)))
 *
 * is (asymptotically) a nonnegative martingale under θ = 0, so by Ville's inequality
 * P(Λ ever reaches 1/α) ≤ α: the report may be read after every impression and rejecting whenever
 * Λ ≥ 1/α keeps the false-positive rate at α. The always-valid p-value is the running minimum of
 * 1/Λ; without the history, 1/Λ at the current look is larger, so still valid (conservative). The
 * matching (1 − α) confidence sequence is the set of θ the test would not reject:
 *
 *   θ̂ ± sqrt(V (V + τ²) / τ² · (2 ln(1/α) + ln((V + τ²) / V)))
 *
 * τ is fixed before the data (an experiment setting, in the metric's own units): the test is most
 * powerful for effects of about that size, and valid whatever it is.
 */

/** Sufficient statistics of one arm for one metric: observations, their sum and sum of squares. */
export interface MeanCounts {
  n: number;
  sum: number;
  /** Sum of squared observations (for a 0/1 outcome, equal to `sum`). */
  sumSq: number;
}

export interface ArmEstimate {
  mean: number;
  /** Variance of one observation (population variance of the arm's observations). */
  variance: number;
}

/** Mean and per-observation variance of an arm; variance 0 when n < 2. */
export function armEstimate(c: MeanCounts): ArmEstimate {
  if (c.n <= 0) return { mean: 0, variance: 0 };
  const mean = c.sum / c.n;
  const variance = c.n < 2 ? 0 : Math.max(0, c.sumSq / c.n - mean * mean);
  return { mean, variance };
}

export interface SequentialResult {
  /** Treatment mean minus control mean. */
  difference: number;
  /** Variance of `difference`. */
  variance: number;
  /** The mixture likelihood ratio Λ (0 when there is no evidence yet: an arm without observations or variance). */
  lambda: number;
  /** Always-valid p-value at this look, min(1, 1/Λ) (and not above `previousP`). */
  p: number;
  /** Confidence sequence for the difference at level 1 − alpha (±Infinity while there is no variance). */
  low: number;
  high: number;
  /** p ≤ alpha. */
  significant: boolean;
}

/**
 * The mSPRT comparison of `treatment` against `control` at level `alpha` with mixture scale `tau`.
 * `previousP` (the p-value of an earlier look, when the caller keeps it) makes the p-value the
 * running minimum over looks, as the method defines it.
 */
export function compareMeans(control: MeanCounts, treatment: MeanCounts, alpha: number, tau: number, previousP = 1): SequentialResult {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(tau > 0)) throw new RangeError(`tau must be > 0, got ${tau}`);
  const a = armEstimate(control);
  const b = armEstimate(treatment);
  const difference = b.mean - a.mean;
  const variance = control.n > 0 && treatment.n > 0 ? a.variance / control.n + b.variance / treatment.n : 0;
  const tau2 = tau * tau;
  if (!(variance > 0)) {
    const p = Math.min(1, previousP);
    return { difference, variance, lambda: 0, p, low: -Infinity, high: Infinity, significant: p <= alpha };
  }
  const logLambda = 0.5 * Math.log(variance / (variance + tau2)) + (tau2 * difference * difference) / (2 * variance * (variance + tau2));
  const lambda = Math.exp(logLambda);
  const p = Math.min(1, previousP, Math.exp(-logLambda));
  const half = Math.sqrt(((variance * (variance + tau2)) / tau2) * (2 * Math.log(1 / alpha) + Math.log((variance + tau2) / variance)));
  return { difference, variance, lambda, p, low: difference - half, high: difference + half, significant: p <= alpha };
}

/**
 * Confidence sequence for one arm's mean at level 1 − alpha (the same mixture, around the arm's
 * own estimate): valid at every look, like the comparison. [-Inf, Inf] while there is no variance.
 */
export function meanInterval(c: MeanCounts, alpha: number, tau: number): { mean: number; low: number; high: number } {
  const { mean, variance } = armEstimate(c);
  const v = c.n > 0 ? variance / c.n : 0;
  if (!(v > 0)) return { mean, low: -Infinity, high: Infinity };
  const tau2 = tau * tau;
  const half = Math.sqrt(((v * (v + tau2)) / tau2) * (2 * Math.log(1 / alpha) + Math.log((v + tau2) / v)));
  return { mean, low: mean - half, high: mean + half };
}

/** Counts of a 0/1 outcome: `successes` of `n`. */
export function rateCounts(successes: number, n: number): MeanCounts {
  return { n, sum: successes, sumSq: successes };
}
