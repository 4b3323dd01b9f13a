import { performance } from 'node:perf_hooks';
import { Rng } from '@seqrec/random';
import type { EvalCase, Recommender } from '../types';
import { RankMetrics, type TieMode } from './metrics';

export type Protocol = 'full' | 'sampled';

export interface EvaluateOptions {
  /** The dataset the cases come from: gives the item count and the name on the result row. */
  dataset: { name: string; numItems: number };
  /** `full` (default): rank the target against every item. `sampled`: against `negatives` sampled items. */
  protocol?: Protocol;
  /** Cutoffs. Default [5, 10, 20]; 10 and 20 are always added (HR@10, NDCG@10 and Recall@20 are headline metrics). */
  ks?: readonly number[];
  /** Negatives per case for `sampled`. Default 100. */
  negatives?: number;
  /** Seed of the negative sampler. Default 42. */
  seed?: number;
  /** Histories per `scoreBatch` call. Default 256. */
  batchSize?: number;
  /**
   * Full ranking only: remove the items of the history from the competitors (the target itself is
   * never removed, even when it repeats a history item). Default true. Use false for session data,
   * where re-clicking an item is a legitimate next event (GRU4Rec convention).
   */
  excludeSeen?: boolean;
  /** Tie handling, see `TieMode`. Default 'pessimistic'. */
  ties?: TieMode;
  /** Label of the cases on the result row (`valid`, `test`, ...). Default 'test'. */
  split?: string;
  /** Label of the model on the result row. Default `model.name`. */
  model?: string;
  /** Hyper-parameters to record on the result row. */
  params?: Record<string, unknown>;
}

/** One result row, JSON-ready. */
export interface EvalResult {
  dataset: string;
  split: string;
  protocol: Protocol;
  model: string;
  /** Cases evaluated (one per user under leave-one-out, one per click for session data). */
  users: number;
  metrics: Record<string, number>;
  ks: number[];
  ties: TieMode;
  excludeSeen: boolean;
  /** Sampled protocol: negatives per case and seed. */
  negatives?: number;
  seed?: number;
  /** Cases whose target tied with a competitor (where `ties` mattered). */
  tiedCases: number;
  numItems: number;
  params?: Record<string, unknown>;
  /** Training time of the model, when the caller records it. */
  fitMs?: number;
  timing: { totalMs: number; scoreMs: number; rankMs: number; casesPerSecond: number };
}

/**
 * Scores every case with `model` and averages ranking metrics (see `RankMetrics`).
 *
 * Full protocol: the target's rank is the number of items 1..numItems, other than the target and
 * (with `excludeSeen`) other than the history's items, scoring above it; ties per `ties`. Ranks
 * are counted, never sorted: O(numItems) per case.
 *
 * Sampled protocol (SASRec paper): `negatives` distinct items drawn uniformly from the items the
 * user has not interacted with (not in the history, not the target), seeded, in case order, so
 * the same cases and seed always draw the same negatives; the target is ranked among itself and
 * them. (SASRec's code draws with replacement; with ~100 draws out of thousands of items the
 * difference is negligible. For validation cases the user's later test item may be drawn, as in
 * SASRec's code, since it is not in the history.)
 *
 * A NaN target score is ranked last; NaN competitors rank below the target.
 */
export async function evaluate(model: Recommender, cases: readonly EvalCase[], options: EvaluateOptions): Promise<EvalResult> {
  const t0 = performance.now();
  const N = options.dataset.numItems;
  const protocol = options.protocol ?? 'full';
  const ks = [...new Set([...(options.ks ?? [5, 10, 20]), 10, 20])].sort((a, b) => a - b);
  const negatives = options.negatives ?? 100;
  const seed = options.seed ?? 42;
  const batchSize = options.batchSize ?? 256;
  const excludeSeen = options.excludeSeen ?? true;
  const ties = options.ties ?? 'pessimistic';
  if (!Number.isInteger(N) || N < 1) throw new RangeError(`dataset.numItems must be a positive integer, got ${N}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (protocol === 'sampled' && (!Number.isInteger(negatives) || negatives < 1)) throw new RangeError(`negatives must be a positive integer, got ${negatives}`);

  const acc = new RankMetrics(ks, ties);
  const stamp = new Int32Array(N + 1);
  let stampId = 0;
  const rng = new Rng(seed);
  const negBuf = new Int32Array(Math.min(negatives, N));
  const allowedBuf = protocol === 'sampled' ? new Int32Array(N) : null;
  const width = N + 1;
  let scoreMs = 0;

  for (let start = 0; start < cases.length; start += batchSize) {
    const batch = cases.slice(start, start + batchSize);
    const histories = batch.map((c) => c.history);
    const types = batch.every((c) => c.historyTypes) ? batch.map((c) => c.historyTypes!) : undefined;
    const ts = performance.now();
    const scores = await model.scoreBatch(histories, types);
    scoreMs += performance.now() - ts;
    if (scores.length !== batch.length * width) {
      throw new RangeError(`${model.name}.scoreBatch returned ${scores.length} scores, expected ${batch.length} x ${width} = ${batch.length * width}`);
    }
    for (let b = 0; b < batch.length; b++) {
      const c = batch[b]!;
      const target = c.target;
      if (!Number.isInteger(target) || target < 1 || target > N) throw new RangeError(`case ${start + b}: target ${target} outside 1..${N}`);
      const o = b * width;
      const s = scores[o + target]!;
      if (Number.isNaN(s)) {
        acc.add(protocol === 'full' ? N - 1 : Math.min(negatives, N - 1), 0);
        continue;
      }
      if (++stampId === 0x7fffffff) {
        stamp.fill(0);
        stampId = 1;
      }
      let greater = 0;
      let equal = 0;
      if (protocol === 'full') {
        for (let j = 1; j <= N; j++) {
          const v = scores[o + j]!;
          if (v > s) greater++;
          else if (v === s) equal++;
        }
        equal--; // the target itself
        if (excludeSeen) {
          stamp[target] = stampId;
          const h = c.history;
          for (let i = 0; i < h.length; i++) {
            const item = h[i]!;
            if (stamp[item] === stampId) continue;
            stamp[item] = stampId;
            const v = scores[o + item]!;
            if (v > s) greater--;
            else if (v === s) equal--;
          }
        }
      } else {
        const k = sampleNegatives(c, N, negatives, rng, stamp, stampId, negBuf, allowedBuf!);
        for (let i = 0; i < k; i++) {
          const v = scores[o + negBuf[i]!]!;
          if (v > s) greater++;
          else if (v === s) equal++;
        }
      }
      acc.add(greater, equal);
    }
  }
  const totalMs = performance.now() - t0;
  const result: EvalResult = {
    dataset: options.dataset.name,
    split: options.split ?? 'test',
    protocol,
    model: options.model ?? model.name,
    users: acc.count,
    metrics: acc.result(),
    ks,
    ties,
    excludeSeen: protocol === 'full' ? excludeSeen : true,
    tiedCases: acc.tiedCases,
    numItems: N,
    timing: { totalMs, scoreMs, rankMs: totalMs - scoreMs, casesPerSecond: acc.count / (totalMs / 1000 || 1) },
  };
  if (protocol === 'sampled') {
    result.negatives = negatives;
    result.seed = seed;
  }
  if (options.params) result.params = options.params;
  return result;
}

/**
 * Draws up to `want` distinct negatives for `c` into `out` and returns how many: uniform over
 * items 1..N not in the history and not the target. Marks forbidden and drawn items in `stamp`
 * with `id`. Rejection sampling while most items are allowed, otherwise an explicit list.
 */
export function sampleNegatives(
  c: EvalCase,
  N: number,
  want: number,
  rng: Rng,
  stamp: Int32Array,
  id: number,
  out: Int32Array,
  allowed: Int32Array,
): number {
  stamp[c.target] = id;
  let forbidden = 1;
  const h = c.history;
  for (let i = 0; i < h.length; i++) {
    const item = h[i]!;
    if (stamp[item] !== id) {
      stamp[item] = id;
      forbidden++;
    }
  }
  const free = N - forbidden;
  const k = Math.min(want, free, out.length);
  if (free <= 2 * k) {
    let m = 0;
    for (let j = 1; j <= N; j++) if (stamp[j] !== id) allowed[m++] = j;
    for (let i = 0; i < k; i++) {
      const r = i + rng.int(m - i);
      const t = allowed[r]!;
      allowed[r] = allowed[i]!;
      allowed[i] = t;
      out[i] = t;
    }
    return k;
  }
  for (let i = 0; i < k; i++) {
    let j: number;
    do j = 1 + rng.int(N);
    while (stamp[j] === id);
    stamp[j] = id;
    out[i] = j;
  }
  return k;
}
