import { hashInts, Rng } from '@seqrec/random';
import { assertNonNegative, assertPositive, notFitted, resolveTraining, type FittableRecommender, type TrainingData } from './common';

export interface BprMfOptions {
  /** Latent dimension. Default 64. */
  factors: number;
  /** Training epochs; one epoch draws as many (user, positive, negative) triples as there are distinct (user, item) pairs. Default 30. */
  epochs: number;
  /** SGD step size, training and fold-in. Default 0.05. */
  learningRate: number;
  /** L2 weight on user and item factors. Default 0.005. */
  reg: number;
  /** L2 weight on item biases. Default 0. */
  biasReg: number;
  /** Standard deviation of the initial factors. Default 0.1. */
  initStd: number;
  /** Seed of initialisation, triple sampling and fold-in. Default 42. */
  seed: number;
  /** How a history becomes a user vector at scoring time, see the class comment. Default 'sgd'. */
  foldIn: 'sgd' | 'mean';
  /** Fold-in SGD passes over the history. Default 30. */
  foldInEpochs: number;
  /** Fold-in uses at most this many latest history items. Default 500. */
  foldInMaxHistory: number;
  /**
   * A history identical to a training sequence is served with that user's trained vector instead
   * of a fold-in. Default true.
   */
  knownUsers: boolean;
}

export const BPRMF_DEFAULTS: Readonly<BprMfOptions> = Object.freeze({
  factors: 64,
  epochs: 30,
  learningRate: 0.05,
  reg: 0.005,
  biasReg: 0,
  initStd: 0.1,
  seed: 42,
  foldIn: 'sgd',
  foldInEpochs: 30,
  foldInMaxHistory: 500,
  knownUsers: true,
});

/**
 * Matrix factorisation trained with BPR (Rendle et al., UAI 2009): score(u, j) = p_u · q_j + b_j,
 * learned by SGD on triples (u, i, j) with i a training item of user u (drawn uniformly over
 * (user, item) pairs, "bootstrap sampling") and j drawn uniformly from items u never had, maximising
 * ln σ(score(u, i) − score(u, j)) − reg·(‖p_u‖² + ‖q_i‖² + ‖q_j‖²). Users are training sequences
 * taken as item sets (order is ignored). Plain Float32Arrays, seeded, single-threaded.
 *
 * Serving sees a history, not a trained user id. A history equal to a training sequence (same
 * items in the same order) is a known user and gets its trained vector (`knownUsers`, default):
 * under leave-one-out every evaluation history is exactly its user's training sequence for that
 * phase, so this is classic BPR-MF evaluation. Any other history is folded in:
 *
 * - `sgd` (default): with item factors and biases frozen, a fresh user vector (from 0) is fitted to
 *   the history by the same BPR SGD, `foldInEpochs` passes over its distinct items (negatives
 *   drawn outside the history), seeded by the history's content. For fixed items the per-user BPR
 *   objective is convex in p_u, so this recovers (up to SGD noise) the vector the trainer would
 *   have learned for that user: trained users and new users are served by the same rule, which is
 *   why it is the default. Costs foldInEpochs · |history| · factors per history; results are
 *   cached per history array (`WeakMap`), so scoring the same cases twice folds in once.
 * - `mean`: the average of the history's item factors. Free, but the item factors were not
 *   trained for that use, so it ranks noticeably worse (kept for comparison).
 */
export class BprMfRecommender implements FittableRecommender<BprMfOptions> {
  readonly name = 'bpr-mf';
  private opts: BprMfOptions;
  private Q: Float32Array | null = null;
  private bias: Float32Array | null = null;
  private N = 0;
  private cache = new WeakMap<Int32Array, Float32Array>();
  private Pu: Float32Array | null = null;
  /** Content hash of each trained user's sequence -> trained rows with that hash. */
  private byHash = new Map<number, number[]>();
  private rowSequences: Int32Array[] = [];
  /** Histories served from a trained user vector / folded in, since the last fit. */
  readonly served = { known: 0, foldedIn: 0 };
  private stamp = new Int32Array(0);
  private stampId = 0;
  /** Wall-clock ms of the last fit. */
  fitMs = 0;

  constructor(options: Partial<BprMfOptions> = {}) {
    this.opts = checked({ ...BPRMF_DEFAULTS, ...options });
  }

  get params(): Readonly<BprMfOptions> {
    return this.opts;
  }

  fit(data: TrainingData, numItems?: number, options: Partial<BprMfOptions> = {}): this {
    const t0 = Date.now();
    this.opts = checked({ ...this.opts, ...options });
    const { train, numItems: N } = resolveTraining(data, numItems);
    const { factors: d, epochs, learningRate: lr, reg, biasReg, initStd, seed } = this.opts;
    const rng = new Rng(seed);

    // Users as sorted distinct item sets (CSR); users without items are skipped.
    const offsets: number[] = [0];
    const items: number[] = [];
    const rowSequences: Int32Array[] = [];
    const mark = new Int32Array(N + 1).fill(-1);
    for (let u = 0; u < train.length; u++) {
      const s = train[u]!;
      const start = items.length;
      for (let t = 0; t < s.length; t++) {
        if (mark[s[t]!] !== u) {
          mark[s[t]!] = u;
          items.push(s[t]!);
        }
      }
      if (items.length === start) continue;
      rowSequences.push(s);
      const sorted = Int32Array.from(items.slice(start)).sort();
      for (let k = 0; k < sorted.length; k++) items[start + k] = sorted[k]!;
      offsets.push(items.length);
    }
    const U = offsets.length - 1;
    const uOff = Int32Array.from(offsets);
    const uItems = Int32Array.from(items);
    const P = uItems.length;
    const pairUser = new Int32Array(P);
    for (let u = 0; u < U; u++) pairUser.fill(u, uOff[u]!, uOff[u + 1]!);

    const Pu = new Float32Array(U * d);
    const Q = new Float32Array((N + 1) * d);
    const bias = new Float32Array(N + 1);
    for (let k = 0; k < Pu.length; k++) Pu[k] = rng.normal() * initStd;
    for (let k = d; k < Q.length; k++) Q[k] = rng.normal() * initStd;

    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let step = 0; step < P; step++) {
        const p = rng.int(P);
        const u = pairUser[p]!;
        const i = uItems[p]!;
        const lo = uOff[u]!;
        const hi = uOff[u + 1]!;
        if (hi - lo >= N) continue;
        let j: number;
        do j = 1 + rng.int(N);
        while (contains(uItems, lo, hi, j));
        const pu = u * d;
        const qi = i * d;
        const qj = j * d;
        let x = bias[i]! - bias[j]!;
        for (let f = 0; f < d; f++) x += Pu[pu + f]! * (Q[qi + f]! - Q[qj + f]!);
        const g = 1 / (1 + Math.exp(x));
        for (let f = 0; f < d; f++) {
          const uf = Pu[pu + f]!;
          const vi = Q[qi + f]!;
          const vj = Q[qj + f]!;
          Pu[pu + f] = uf + lr * (g * (vi - vj) - reg * uf);
          Q[qi + f] = vi + lr * (g * uf - reg * vi);
          Q[qj + f] = vj + lr * (-g * uf - reg * vj);
        }
        bias[i] = bias[i]! + lr * (g - biasReg * bias[i]!);
        bias[j] = bias[j]! + lr * (-g - biasReg * bias[j]!);
      }
    }
    this.Q = Q;
    this.bias = bias;
    this.Pu = Pu;
    this.rowSequences = rowSequences;
    this.byHash = new Map();
    for (let r = 0; r < rowSequences.length; r++) {
      const key = hashInts(rowSequences[r]!);
      const list = this.byHash.get(key);
      if (list) list.push(r);
      else this.byHash.set(key, [r]);
    }
    this.served.known = 0;
    this.served.foldedIn = 0;
    this.N = N;
    this.cache = new WeakMap();
    this.stamp = new Int32Array(N + 1);
    this.stampId = 0;
    this.fitMs = Date.now() - t0;
    return this;
  }

  /** Item factors, row-major [numItems + 1, factors] (row 0 unused), and item biases. */
  get itemFactors(): { factors: Float32Array; bias: Float32Array } {
    if (!this.Q || !this.bias) throw notFitted(this.name);
    return { factors: this.Q, bias: this.bias };
  }

  /** The user vector the model uses for `history` (see the class comment). */
  foldIn(history: Int32Array): Float32Array {
    const { factors: Q, bias } = this.itemFactors;
    const cached = this.cache.get(history);
    if (cached) return cached;
    const { factors: d, foldIn, foldInEpochs, foldInMaxHistory, learningRate: lr, reg, seed, knownUsers } = this.opts;
    if (knownUsers) {
      const row = this.knownRow(history);
      if (row >= 0) {
        const v = this.Pu!.slice(row * d, (row + 1) * d);
        this.cache.set(history, v);
        this.served.known++;
        return v;
      }
    }
    this.served.foldedIn++;
    const N = this.N;
    const h = history.length > foldInMaxHistory ? history.subarray(history.length - foldInMaxHistory) : history;
    if (++this.stampId === 0x7fffffff) {
      this.stamp.fill(0);
      this.stampId = 1;
    }
    const id = this.stampId;
    const set: number[] = [];
    for (let t = 0; t < h.length; t++) {
      if (this.stamp[h[t]!] !== id) {
        this.stamp[h[t]!] = id;
        set.push(h[t]!);
      }
    }
    const p = new Float32Array(d);
    if (set.length > 0 && foldIn === 'mean') {
      for (const i of set) for (let f = 0; f < d; f++) p[f]! += Q[i * d + f]!;
      for (let f = 0; f < d; f++) p[f]! /= set.length;
    } else if (set.length > 0 && set.length < N) {
      const rng = new Rng(hashInts(h, seed));
      const steps = foldInEpochs * set.length;
      for (let step = 0; step < steps; step++) {
        const i = set[rng.int(set.length)]!;
        let j: number;
        do j = 1 + rng.int(N);
        while (this.stamp[j] === id);
        const qi = i * d;
        const qj = j * d;
        let x = bias[i]! - bias[j]!;
        for (let f = 0; f < d; f++) x += p[f]! * (Q[qi + f]! - Q[qj + f]!);
        const g = 1 / (1 + Math.exp(x));
        for (let f = 0; f < d; f++) p[f] = p[f]! + lr * (g * (Q[qi + f]! - Q[qj + f]!) - reg * p[f]!);
      }
    }
    this.cache.set(history, p);
    return p;
  }

  private knownRow(history: Int32Array): number {
    const rows = this.byHash.get(hashInts(history));
    if (!rows) return -1;
    for (const r of rows) {
      const s = this.rowSequences[r]!;
      if (s.length !== history.length) continue;
      let same = true;
      for (let t = 0; t < s.length && same; t++) same = s[t] === history[t];
      if (same) return r;
    }
    return -1;
  }

  scoreBatch(histories: Int32Array[]): Promise<Float32Array> {
    const { factors: Q, bias } = this.itemFactors;
    const d = this.opts.factors;
    const N = this.N;
    const width = N + 1;
    const B = histories.length;
    const out = new Float32Array(B * width);
    // User vectors of the batch, padded to a multiple of 4 rows: four histories share each item
    // row load below (about 3x faster than one dot product at a time).
    const rows = (B + 3) & ~3;
    const U = new Float32Array(rows * d);
    for (let b = 0; b < B; b++) U.set(this.foldIn(histories[b]!), b * d);
    for (let b = 0; b < rows; b += 4) {
      const u0 = b * d;
      const u1 = u0 + d;
      const u2 = u1 + d;
      const u3 = u2 + d;
      for (let j = 1; j <= N; j++) {
        const q = j * d;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let f = 0; f < d; f++) {
          const v = Q[q + f]!;
          s0 += U[u0 + f]! * v;
          s1 += U[u1 + f]! * v;
          s2 += U[u2 + f]! * v;
          s3 += U[u3 + f]! * v;
        }
        const bj = bias[j]!;
        out[b * width + j] = s0 + bj;
        if (b + 1 < B) out[(b + 1) * width + j] = s1 + bj;
        if (b + 2 < B) out[(b + 2) * width + j] = s2 + bj;
        if (b + 3 < B) out[(b + 3) * width + j] = s3 + bj;
      }
    }
    return Promise.resolve(out);
  }
}

function contains(sorted: Int32Array, lo: number, hi: number, v: number): boolean {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = sorted[mid]!;
    if (x === v) return true;
    if (x < v) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

function checked(o: BprMfOptions): BprMfOptions {
  assertPositive('factors', o.factors, true);
  assertNonNegative('epochs', o.epochs);
  assertPositive('learningRate', o.learningRate);
  assertNonNegative('reg', o.reg);
  assertNonNegative('biasReg', o.biasReg);
  assertNonNegative('initStd', o.initStd);
  assertNonNegative('foldInEpochs', o.foldInEpochs);
  assertPositive('foldInMaxHistory', o.foldInMaxHistory, true);
  if (o.foldIn !== 'sgd' && o.foldIn !== 'mean') throw new RangeError(`foldIn must be 'sgd' or 'mean', got ${String(o.foldIn)}`);
  return o;
}
