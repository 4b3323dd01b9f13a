import type { Rng } from '@seqrec/random';
import type { Catalogue } from './catalogue';

/**
 * Simulated shoppers who respond to what they are shown: the closed loop an online experiment
 * needs. A shopper on item `current` is shown a ranked list; position p (0-based) is looked at with
 * probability 1 / log2(p + 2) (the DCG discount as an examination model), and a looked-at item is
 * clicked with probability `baseClick + relevanceClick · P(next = item | current)`, where the
 * relevance is the generator's own transition probability ({@link Catalogue.transitionProbability}):
 * a list holding the items this shopper really goes to next earns more clicks, by a known amount.
 * A clicked item is bought with probability `purchaseRate`.
 */
export interface ShopperOptions {
  /** Click probability of a looked-at item the shopper has no reason to want. Default 0.01 (a popularity top-10 then gets about 5% CTR on the default catalogue). */
  baseClick?: number;
  /** Extra click probability per unit of true transition probability. Default 0.25. */
  relevanceClick?: number;
  /** Probability that a clicked item is bought. Default 0.1. */
  purchaseRate?: number;
}

export interface ShopperResponse {
  /** 0-based positions clicked, ascending. */
  clicked: number[];
  /** 0-based positions bought (a subset of `clicked`). */
  bought: number[];
}

export class Shoppers {
  readonly baseClick: number;
  readonly relevanceClick: number;
  readonly purchaseRate: number;

  constructor(
    readonly catalogue: Catalogue,
    options: ShopperOptions = {},
  ) {
    this.baseClick = options.baseClick ?? 0.01;
    this.relevanceClick = options.relevanceClick ?? 0.25;
    this.purchaseRate = options.purchaseRate ?? 0.1;
    for (const [k, v] of Object.entries({ baseClick: this.baseClick, relevanceClick: this.relevanceClick, purchaseRate: this.purchaseRate })) {
      if (!(v >= 0 && v <= 1)) throw new RangeError(`${k} must be in [0, 1], got ${v}`);
    }
  }

  /** Probability that position `p` is looked at. */
  static examination(p: number): number {
    return 1 / Math.log2(p + 2);
  }

  /** Probability that an item at position `p` is clicked by a shopper on `current`. */
  clickProbability(current: number, item: number, p: number): number {
    return Shoppers.examination(p) * Math.min(1, this.baseClick + this.relevanceClick * this.catalogue.transitionProbability(current, item));
  }

  /** Probability that a shopper on `current` clicks at least one item of `shown` (positions independent). */
  listClickProbability(current: number, shown: readonly number[]): number {
    let none = 1;
    for (let p = 0; p < shown.length; p++) none *= 1 - this.clickProbability(current, shown[p]!, p);
    return 1 - none;
  }

  /** What a shopper on `current` does with `shown` (item indices, best first). */
  respond(current: number, shown: readonly number[], rng: Rng): ShopperResponse {
    const clicked: number[] = [];
    const bought: number[] = [];
    for (let p = 0; p < shown.length; p++) {
      if (rng.float() < this.clickProbability(current, shown[p]!, p)) {
        clicked.push(p);
        if (rng.float() < this.purchaseRate) bought.push(p);
      }
    }
    return { clicked, bought };
  }
}
