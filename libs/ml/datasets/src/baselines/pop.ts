import { emptyGraph, type GraphModel } from './item-graph';
import { itemCounts, notFitted, resolveTraining, type FittableRecommender, type TrainingData } from './common';

/** Popularity has no hyper-parameters. */
export type PopOptions = Record<string, never>;

/**
 * Popularity: every history gets the same scores, each item's number of interactions in the
 * training sequences. Non-personalised; the floor every other model must clear. Items with equal
 * counts tie: the evaluator's tie rule decides their order.
 */
export class PopRecommender implements FittableRecommender<PopOptions> {
  readonly name = 'pop';
  readonly params: Readonly<PopOptions> = {};
  private scores: Float32Array | null = null;

  fit(data: TrainingData, numItems?: number): this {
    const t = resolveTraining(data, numItems);
    this.scores = Float32Array.from(itemCounts(t.train, t.numItems));
    this.scores[0] = 0;
    return this;
  }

  /** Training interaction count of every item (index 0 unused). */
  get counts(): Float32Array {
    if (!this.scores) throw notFitted(this.name);
    return this.scores;
  }

  /** Popularity as a graph model with no edges (the scorer serves it that way). */
  asGraph(): GraphModel {
    return { graph: emptyGraph(this.counts.length - 1), rule: { kind: 'pop' }, prior: this.counts };
  }

  scoreBatch(histories: Int32Array[]): Promise<Float32Array> {
    const scores = this.counts;
    const width = scores.length;
    const out = new Float32Array(histories.length * width);
    for (let b = 0; b < histories.length; b++) out.set(scores, b * width);
    return Promise.resolve(out);
  }
}
