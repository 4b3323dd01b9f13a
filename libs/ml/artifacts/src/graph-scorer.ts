/**
 * Serving a neighbourhood model (item-KNN, co-occurrence, popularity) from its item graph: a live
 * window's scores are accumulated sparsely over the neighbours of its items, never as a dense
 * [numItems] pass, and merged with the prior's ranking for the items no neighbour reaches. The
 * answers equal the evaluated recommender's dense `scoreBatch` + top-k (same rule, graph, prior),
 * up to the order of exactly tied scores.
 */
import { forEachHistoryWeight, ItemStamps, weaker, type GraphModel } from '@seqrec/datasets';
import { TopK } from '@seqrec/model';

export interface ScoredItems {
  items: Int32Array;
  scores: Float32Array;
}

export class GraphScorer {
  readonly numItems: number;
  /** Items by prior, best first (index ascending among ties): the ranking of items no neighbour reaches. */
  private readonly priorOrder: Int32Array;
  /** Graph part of the scores of the history being scored (the `touched` items); zero elsewhere between calls. */
  private readonly acc: Float32Array;
  private readonly touched: Int32Array;
  private readonly stamps: ItemStamps;
  private readonly reached: ItemStamps;
  private readonly excluded: ItemStamps;

  constructor(readonly model: GraphModel) {
    const n = model.graph.numItems;
    this.numItems = n;
    const prior = model.prior;
    this.priorOrder = Int32Array.from({ length: n }, (_, i) => i + 1).sort((a, b) => prior[b]! - prior[a]! || a - b);
    this.acc = new Float32Array(n + 1);
    this.touched = new Int32Array(n + 1);
    this.stamps = new ItemStamps(n);
    this.reached = new ItemStamps(n);
    this.excluded = new ItemStamps(n);
  }

  /** Edges of the graph (for logs and metrics). */
  get edges(): number {
    return this.model.graph.neighbours.length;
  }

  /** Top-k items for a history (model indices 1..N, oldest first), skipping `exclude` and the items `accept` refuses. */
  topK(history: ArrayLike<number>, k: number, exclude: ArrayLike<number> = [], accept?: (item: number) => boolean): ScoredItems {
    const prior = this.model.prior;
    const m = this.accumulate(history);
    this.excluded.next();
    for (let i = 0; i < exclude.length; i++) this.excluded.mark(exclude[i]!);
    // Best k of the reached items (the one TopK: ties by the smaller index).
    const top = new TopK(k);
    for (let t = 0; t < m; t++) {
      const j = this.touched[t]!;
      if (!this.excluded.mark(j)) continue; // excluded (or, impossible here, seen twice)
      if (accept && !accept(j)) continue;
      const s = Math.fround(this.acc[j]! + prior[j]!); // scores are f32, as the dense scorer's
      if (top.wouldTake(s)) top.offer(j, s);
    }
    const best = top.result();
    const reached = Array.from(best.items, (j, q): [number, number] => [j, best.scores[q]!]);
    // The prior's best k among the items not reached and not excluded (reached ones are marked now).
    const rest: Array<[number, number]> = [];
    for (let q = 0; q < this.priorOrder.length && rest.length < k; q++) {
      const j = this.priorOrder[q]!;
      if (this.excluded.mark(j) && (!accept || accept(j))) rest.push([j, prior[j]!]);
    }
    this.clear(m);
    // Merge the two ranked lists.
    const items = new Int32Array(Math.min(k, reached.length + rest.length));
    const scores = new Float32Array(items.length);
    for (let out = 0, a = 0, b = 0; out < items.length; out++) {
      const takeA = b >= rest.length || (a < reached.length && !weaker(reached[a]![1], reached[a]![0], rest[b]![1], rest[b]![0]));
      const [j, s] = takeA ? reached[a++]! : rest[b++]!;
      items[out] = j;
      scores[out] = s;
    }
    return { items, scores };
  }

  /** Scores of candidate items (model indices; 0, an unknown item, scores 0) for a history. */
  score(history: ArrayLike<number>, candidates: ArrayLike<number>): Float32Array {
    const m = this.accumulate(history);
    const out = new Float32Array(candidates.length);
    for (let q = 0; q < candidates.length; q++) {
      const c = candidates[q]!;
      if (c > 0 && c <= this.numItems) out[q] = this.acc[c]! + this.model.prior[c]!;
    }
    this.clear(m);
    return out;
  }

  /**
   * The item's strongest neighbours in the graph, itself excluded (item-KNN: most similar;
   * co-occurrence: most likely next, where a repeat of the item itself can be a neighbour).
   */
  similar(index: number, k: number): ScoredItems {
    const { offsets, neighbours, weights } = this.model.graph;
    const items: number[] = [];
    const scores: number[] = [];
    if (index >= 1 && index <= this.numItems) {
      for (let p = offsets[index]!; p < offsets[index + 1]! && items.length < k; p++) {
        if (neighbours[p] === index) continue;
        items.push(neighbours[p]!);
        scores.push(weights[p]!);
      }
    }
    return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
  }

  /** Adds the history's graph scores into `acc`; returns how many items it reached (listed in `touched`). */
  private accumulate(history: ArrayLike<number>): number {
    const { offsets, neighbours, weights } = this.model.graph;
    let m = 0;
    this.reached.next();
    forEachHistoryWeight(this.model.rule, history, this.stamps, (i, w) => {
      if (i < 1 || i > this.numItems) return;
      for (let p = offsets[i]!; p < offsets[i + 1]!; p++) {
        const j = neighbours[p]!;
        if (this.reached.mark(j)) this.touched[m++] = j;
        this.acc[j]! += w * weights[p]!;
      }
    });
    return m;
  }

  private clear(m: number): void {
    for (let t = 0; t < m; t++) this.acc[this.touched[t]!] = 0;
  }
}
