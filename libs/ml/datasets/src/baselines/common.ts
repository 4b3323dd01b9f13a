import type { LeaveOneOutSplit, Recommender } from '../types';

/** Training input of a classic baseline: a split (its `train` is used) or training sequences. */
export type TrainingData = LeaveOneOutSplit | readonly Int32Array[];

/** A `Recommender` that is trained in-process from sequences. */
export interface FittableRecommender<P extends object = Record<string, unknown>> extends Recommender {
  /** Current hyper-parameters (constructor options merged with the last `fit` options). */
  readonly params: Readonly<P>;
  /**
   * Trains on `data` (a split's `train`, or sequences of item indices 1..numItems; `numItems`
   * is required with plain sequences). `options` override the constructor's for this and later
   * fits. Returns `this`; a second call retrains from scratch.
   */
  fit(data: TrainingData, numItems?: number, options?: Partial<P>): this;
}

export function resolveTraining(data: TrainingData, numItems: number | undefined): { train: readonly Int32Array[]; numItems: number } {
  const isSplit = !Array.isArray(data);
  const train = isSplit ? (data as LeaveOneOutSplit).train : (data as readonly Int32Array[]);
  const n = numItems ?? (isSplit ? (data as LeaveOneOutSplit).dataset.numItems : undefined);
  if (n === undefined || !Number.isInteger(n) || n < 1) throw new RangeError(`numItems must be a positive integer (required with plain sequences), got ${n}`);
  for (let u = 0; u < train.length; u++) {
    const s = train[u]!;
    for (let i = 0; i < s.length; i++) if (s[i]! < 1 || s[i]! > n) throw new RangeError(`training sequence ${u}: item ${s[i]} outside 1..${n}`);
  }
  return { train, numItems: n };
}

export function notFitted(name: string): Error {
  return new Error(`${name}: call fit() before scoreBatch()`);
}

/** Interaction count of every item (index 0 unused). */
export function itemCounts(train: readonly Int32Array[], numItems: number): Float64Array {
  const counts = new Float64Array(numItems + 1);
  for (const s of train) for (let i = 0; i < s.length; i++) counts[s[i]!]!++;
  return counts;
}

/**
 * A tiny popularity prior, `1e-6 * count / maxCount`, that models add under their own scores so
 * items the model cannot tell apart (e.g. no co-occurrence with the history) are ordered by
 * popularity instead of tying. It changes no order between items the model does score.
 */
export function popularityPrior(train: readonly Int32Array[], numItems: number): Float32Array {
  const counts = itemCounts(train, numItems);
  let max = 0;
  for (let i = 1; i <= numItems; i++) if (counts[i]! > max) max = counts[i]!;
  const prior = new Float32Array(numItems + 1);
  if (max > 0) for (let i = 1; i <= numItems; i++) prior[i] = (1e-6 * counts[i]!) / max;
  return prior;
}

export function assertPositive(name: string, v: number, integer = false): void {
  if (!(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
}

export function assertNonNegative(name: string, v: number): void {
  if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a non-negative number, got ${v}`);
}
