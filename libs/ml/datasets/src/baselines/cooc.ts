import { assertNonNegative, assertPositive, notFitted, popularityPrior, resolveTraining, type FittableRecommender, type TrainingData } from './common';
import { buildTopKGraph, denseGraphScores, ItemStamps, occurrenceIndex, type GraphModel, type GraphRule, type ItemGraph } from './item-graph';

export interface CoocOptions {
  /** An item counts as following i when it comes at most this many positions after i. Default 3. */
  window: number;
  /** Weight of a follower at distance d is `windowDecay ** (d - 1)`. Default 0.5. */
  windowDecay: number;
  /** History items used for scoring: the last `lastN`. Default 5. */
  lastN: number;
  /** Weight of the l-th last history item is `recencyDecay ** (l - 1)`. Default 0.6. */
  recencyDecay: number;
  /** Added to each item's outgoing total before normalising (damps items seen rarely). Default 5. */
  shrink: number;
  /** Followers kept per item. Default 200. */
  neighbours: number;
}

export const COOC_DEFAULTS: Readonly<CoocOptions> = Object.freeze({ window: 3, windowDecay: 0.5, lastN: 5, recencyDecay: 0.6, shrink: 5, neighbours: 200 });

/**
 * Sequence-aware next-item co-occurrence (a windowed first-order Markov model, cf. the
 * "sequential rules" / S-KNN baselines of session-rec, Ludewig & Jannach 2018):
 *
 *   C(i → j) = Σ over training sequences and positions t with s_t = i, d = 1..window,
 *              s_{t+d} = j of windowDecay^{d-1}
 *   P(j | i) = C(i → j) / (Σ_j' C(i → j') + shrink)
 *
 * keeping the `neighbours` strongest followers of each item. A history is scored as
 * score(j) = Σ_{l=1..lastN} recencyDecay^{l-1} · P(j | h_{n-l}) plus a 1e-6 popularity prior that
 * only orders otherwise-tied items. Direction matters: j after i, not before.
 */
export class CoocRecommender implements FittableRecommender<CoocOptions> {
  readonly name = 'cooc';
  private opts: CoocOptions;
  private graph: ItemGraph | null = null;
  private priorScores: Float32Array | null = null;
  private stamps: ItemStamps | null = null;

  constructor(options: Partial<CoocOptions> = {}) {
    this.opts = checked({ ...COOC_DEFAULTS, ...options });
  }

  get params(): Readonly<CoocOptions> {
    return this.opts;
  }

  fit(data: TrainingData, numItems?: number, options: Partial<CoocOptions> = {}): this {
    this.opts = checked({ ...this.opts, ...options });
    const { train, numItems: N } = resolveTraining(data, numItems);
    const occ = occurrenceIndex(train, N);
    const { window, windowDecay, shrink } = this.opts;
    const stepWeight = Float64Array.from({ length: window + 1 }, (_, d) => (d === 0 ? 0 : windowDecay ** (d - 1)));
    const rowTotal = new Float64Array(N + 1);
    this.graph = buildTopKGraph(
      N,
      this.opts.neighbours,
      (i, acc, touched) => {
        let m = 0;
        let sum = 0;
        for (let q = occ.offsets[i]!; q < occ.offsets[i + 1]!; q++) {
          const s = train[occ.seq[q]!]!;
          const t = occ.pos[q]!;
          const end = Math.min(s.length - 1, t + window);
          for (let p = t + 1; p <= end; p++) {
            const j = s[p]!;
            const w = stepWeight[p - t]!;
            if (acc[j] === 0) touched[m++] = j;
            acc[j]! += w;
            sum += w;
          }
        }
        rowTotal[i] = sum;
        return m;
      },
      (i, _j, raw) => raw / (rowTotal[i]! + shrink),
    );
    this.priorScores = popularityPrior(train, N);
    this.stamps = null;
    return this;
  }

  /** The fitted transition graph (read-only). */
  get transitions(): ItemGraph {
    if (!this.graph) throw notFitted(this.name);
    return this.graph;
  }

  /** How histories are scored over {@link transitions} (the scorer serves the graph with it). */
  get rule(): GraphRule {
    return { kind: 'cooc', lastN: this.opts.lastN, recencyDecay: this.opts.recencyDecay };
  }

  /** The popularity prior added under the graph scores. */
  get prior(): Float32Array {
    if (!this.priorScores) throw notFitted(this.name);
    return this.priorScores;
  }

  /** The fitted model as the scorer serves it. */
  asGraph(): GraphModel {
    return { graph: this.transitions, rule: this.rule, prior: this.prior };
  }

  scoreBatch(histories: Int32Array[]): Promise<Float32Array> {
    const g = this.transitions;
    this.stamps ??= new ItemStamps(g.numItems);
    return Promise.resolve(denseGraphScores(g, this.rule, this.prior, histories, this.stamps));
  }
}

function checked(o: CoocOptions): CoocOptions {
  assertPositive('window', o.window, true);
  assertPositive('windowDecay', o.windowDecay);
  assertPositive('lastN', o.lastN, true);
  assertNonNegative('recencyDecay', o.recencyDecay);
  assertNonNegative('shrink', o.shrink);
  assertPositive('neighbours', o.neighbours, true);
  return o;
}
