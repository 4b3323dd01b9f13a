import { AliasTable, permutation, Rng, zipfWeights } from '@seqrec/random';

/** Options that shape the synthetic catalogue; every field is documented on {@link GeneratorOptions}. */
export interface CatalogueOptions {
  seed: number | string;
  items: number;
  categories: number;
  zipfExponent: number;
  transitionFanout: number;
  crossCategoryRate: number;
}

const CATEGORY_NAMES = [
  'sneakers', 'boots', 't-shirts', 'jeans', 'dresses', 'jackets', 'watches', 'sunglasses', 'backpacks', 'laptops',
  'smartphones', 'headphones', 'speakers', 'cameras', 'tablets', 'monitors', 'keyboards', 'mice', 'printers', 'sofas',
  'office chairs', 'desks', 'lamps', 'rugs', 'bedding', 'cookware', 'knives', 'coffee makers', 'blenders', 'vacuums',
  'toys', 'board games', 'puzzles', 'novels', 'notebooks', 'pens', 'paint', 'garden tools', 'plants', 'grills',
  'tents', 'bicycles', 'helmets', 'yoga mats', 'dumbbells', 'running shorts', 'skincare', 'perfume', 'shampoo', 'pet food',
];
const QUERY_TERMS = [
  'cheap', 'best', 'sale', 'black', 'white', 'red', 'blue', 'kids', 'men', 'women',
  'premium', 'wireless', 'gift', 'new', 'large', 'small', 'eco', 'pro', 'set', 'vintage',
];
/** Query terms each item carries (drawn from QUERY_TERMS): what a search for "<term> <category>" matches. */
const TERMS_PER_ITEM = 2;
/** Attempts to draw a popular item of a category that carries a term before any item of the category will do. */
const TERM_TRIES = 16;
/** Relative weight of each transition slot: the first "next" item is the most likely one. */
const SLOT_DECAY = 0.6;
/** Complement categories per category (cross-category transitions go to one of them). */
const COMPLEMENTS = 2;

/**
 * The synthetic shop: `items` items spread over `categories` categories, Zipf-distributed
 * popularity, and for every item a short ranked list of "next" items (mostly the same category,
 * some from complement categories). Depends only on the seed and the catalogue options, so the same
 * catalogue comes back for any number of users.
 */
export class Catalogue {
  /** Item ids (`i00042`), by item index. */
  readonly itemIds: readonly string[];
  /** Category names, by category index. */
  readonly categoryNames: readonly string[];
  /** Category index of every item. */
  readonly categoryOf: Int32Array;
  /** Popularity weight of every item (Zipf over a random ranking, sums to 1). */
  readonly popularity: Float64Array;
  /** Share of all item draws that each category receives (sums to 1). */
  readonly categoryPopularity: Float64Array;
  readonly fanout: number;

  private readonly global: AliasTable;
  private readonly categoryTable: AliasTable;
  private readonly perCategory: AliasTable[];
  private readonly catStart: Int32Array;
  private readonly catItems: Int32Array;
  /** `next[i * fanout + j]`: the j-th next item of item i. */
  private readonly next: Int32Array;
  /** Cumulative slot probabilities, length fanout. */
  private readonly slotCdf: Float64Array;
  private readonly queries: string[];
  private readonly queriesPerCategory: number;
  /** Bit t set: the item carries QUERY_TERMS[t]. */
  readonly termsOf: Uint32Array;

  constructor(options: CatalogueOptions) {
    const { items, categories, zipfExponent, transitionFanout: fanout, crossCategoryRate } = options;
    const rng = new Rng(options.seed, 1);
    const pad = Math.max(5, String(items - 1).length);
    this.itemIds = Array.from({ length: items }, (_, i) => `i${String(i).padStart(pad, '0')}`);
    this.categoryNames = Array.from({ length: categories }, (_, c) => {
      const base = CATEGORY_NAMES[c % CATEGORY_NAMES.length]!;
      return c < CATEGORY_NAMES.length ? base : `${base} ${Math.floor(c / CATEGORY_NAMES.length) + 1}`;
    });
    this.fanout = fanout;

    // Popularity: Zipf over a random ranking, so ids say nothing about popularity.
    const zipf = zipfWeights(items, zipfExponent);
    const rankOf = permutation(items, rng);
    let zsum = 0;
    for (let r = 0; r < items; r++) zsum += zipf[r]!;
    this.popularity = new Float64Array(items);
    for (let i = 0; i < items; i++) this.popularity[i] = zipf[rankOf[i]!]! / zsum;
    this.global = new AliasTable(this.popularity);

    // Categories of uneven size (mild Zipf), none empty.
    const sizeTable = new AliasTable(zipfWeights(categories, 0.7));
    const catSizeOrder = permutation(categories, rng);
    this.categoryOf = new Int32Array(items);
    for (let i = 0; i < items; i++) {
      this.categoryOf[i] = i < categories ? catSizeOrder[i]! : catSizeOrder[sizeTable.sample(rng)]!;
    }
    this.catStart = new Int32Array(categories + 1);
    for (let i = 0; i < items; i++) this.catStart[this.categoryOf[i]! + 1]!++;
    for (let c = 0; c < categories; c++) this.catStart[c + 1]! += this.catStart[c]!;
    this.catItems = new Int32Array(items);
    const fill = this.catStart.slice(0, categories);
    for (let i = 0; i < items; i++) this.catItems[fill[this.categoryOf[i]!]!++] = i;
    this.perCategory = [];
    this.categoryPopularity = new Float64Array(categories);
    for (let c = 0; c < categories; c++) {
      const members = this.catItems.subarray(this.catStart[c]!, this.catStart[c + 1]!);
      const w = Float64Array.from(members, (i) => this.popularity[i]!);
      for (const x of w) this.categoryPopularity[c]! += x;
      this.perCategory.push(new AliasTable(w));
    }
    this.categoryTable = new AliasTable(this.categoryPopularity);

    // Complements: each category sends some traffic to a couple of other categories.
    const complements = new Int32Array(categories * COMPLEMENTS);
    for (let c = 0; c < categories; c++) {
      for (let k = 0; k < COMPLEMENTS; k++) {
        let other = c;
        if (categories > 1) while (other === c) other = rng.int(categories);
        complements[c * COMPLEMENTS + k] = other;
      }
    }

    // Transitions: a ranked list of distinct next items per item, never the item itself.
    this.slotCdf = new Float64Array(fanout);
    let total = 0;
    for (let j = 0; j < fanout; j++) total += Math.pow(SLOT_DECAY, j);
    let acc = 0;
    for (let j = 0; j < fanout; j++) this.slotCdf[j] = acc += Math.pow(SLOT_DECAY, j) / total;
    this.slotCdf[fanout - 1] = 1;
    this.next = new Int32Array(items * fanout);
    for (let i = 0; i < items; i++) {
      const c = this.categoryOf[i]!;
      for (let j = 0; j < fanout; j++) {
        let target = -1;
        for (let attempt = 0; attempt < 16 && target < 0; attempt++) {
          const cross = rng.float() < crossCategoryRate;
          const tc = cross ? complements[c * COMPLEMENTS + rng.int(COMPLEMENTS)]! : c;
          // Half popularity-weighted, half uniform: structure a popularity baseline cannot see.
          const start = this.catStart[tc]!;
          const size = this.catStart[tc + 1]! - start;
          const t =
            rng.float() < 0.5 ? this.catItems[start + this.perCategory[tc]!.sample(rng)]! : this.catItems[start + rng.int(size)]!;
          if (t !== i && !this.next.subarray(i * fanout, i * fanout + j).includes(t)) target = t;
        }
        // Tiny catalogues: fall back to any other item.
        this.next[i * fanout + j] = target >= 0 ? target : (i + 1 + j) % items;
      }
    }

    // Query terms of every item, from their own random stream: the catalogue above stays as it was.
    const trng = new Rng(options.seed, 5);
    this.termsOf = new Uint32Array(items);
    for (let i = 0; i < items; i++) {
      while (popcount(this.termsOf[i]!) < Math.min(TERMS_PER_ITEM, QUERY_TERMS.length)) this.termsOf[i]! |= 1 << trng.int(QUERY_TERMS.length);
    }

    // Search queries: "<category>" or "<term> <category>", precomputed.
    this.queriesPerCategory = QUERY_TERMS.length + 1;
    this.queries = [];
    for (const name of this.categoryNames) {
      this.queries.push(name);
      for (const term of QUERY_TERMS) this.queries.push(`${term} ${name}`);
    }
  }

  get size(): number {
    return this.itemIds.length;
  }

  get categoryCount(): number {
    return this.categoryNames.length;
  }

  /** An item drawn by global popularity. */
  sampleItem(rng: Rng): number {
    return this.global.sample(rng);
  }

  /** A category drawn by its share of popularity. */
  sampleCategory(rng: Rng): number {
    return this.categoryTable.sample(rng);
  }

  /** An item of category `c`, drawn by popularity within the category. */
  sampleInCategory(c: number, rng: Rng): number {
    return this.catItems[this.catStart[c]! + this.perCategory[c]!.sample(rng)]!;
  }

  /** One of the "next" items of `item`, the first slots being the likeliest. */
  sampleTransition(item: number, rng: Rng): number {
    const u = rng.float();
    const cdf = this.slotCdf;
    let j = 0;
    while (u >= cdf[j]!) j++;
    return this.next[item * this.fanout + j]!;
  }

  /**
   * The true probability that a shopper on `item` moves to `target` next, in this catalogue's own
   * transition model: the slot's probability when `target` is one of `item`'s next items, else 0.
   */
  transitionProbability(item: number, target: number): number {
    const j = this.next.subarray(item * this.fanout, (item + 1) * this.fanout).indexOf(target);
    return j < 0 ? 0 : this.slotWeight(j);
  }

  /** The ranked "next" items of `item` (indices). */
  nextItems(item: number): number[] {
    return Array.from(this.next.subarray(item * this.fanout, (item + 1) * this.fanout));
  }

  /** A search query aimed at category `c`. */
  sampleQuery(c: number, rng: Rng): string {
    return this.sampleSearch(c, rng).query;
  }

  /** A search aimed at category `c`: the query and its term (-1: the bare category name, a third of searches). */
  sampleSearch(c: number, rng: Rng): { query: string; term: number } {
    const k = rng.float() < 1 / 3 ? 0 : 1 + rng.int(this.queriesPerCategory - 1);
    return { query: this.queries[c * this.queriesPerCategory + k]!, term: k - 1 };
  }

  /** The category and term (-1: none) of a query this catalogue made; null for any other text. */
  parseQuery(query: string): { category: number; term: number } | null {
    const k = this.queries.indexOf(query);
    return k < 0 ? null : { category: Math.floor(k / this.queriesPerCategory), term: (k % this.queriesPerCategory) - 1 };
  }

  /** Whether `item` is what a search for category `c` with term `term` (-1: any) is about. */
  matches(item: number, c: number, term: number): boolean {
    return this.categoryOf[item] === c && (term < 0 || (this.termsOf[item]! & (1 << term)) !== 0);
  }

  /**
   * The item a shopper views after searching category `c` with `term` (-1: none), coming from item
   * `cur` (-1: none): with probability `transitionProb` one of `cur`'s next items that match the
   * search (by slot weight), when it has any — the boots that go with the jacket just viewed — else a
   * matching item of the category by popularity (any item of the category when none matches).
   */
  sampleForSearch(c: number, term: number, cur: number, transitionProb: number, rng: Rng): number {
    if (cur >= 0 && rng.float() < transitionProb) {
      let total = 0;
      const base = cur * this.fanout;
      for (let j = 0; j < this.fanout; j++) if (this.matches(this.next[base + j]!, c, term)) total += this.slotWeight(j);
      if (total > 0) {
        let x = rng.float() * total;
        for (let j = 0; j < this.fanout; j++) {
          const t = this.next[base + j]!;
          if (!this.matches(t, c, term)) continue;
          x -= this.slotWeight(j);
          if (x < 0) return t;
        }
      }
    }
    for (let k = 0; k < TERM_TRIES; k++) {
      const i = this.sampleInCategory(c, rng);
      if (this.matches(i, c, term)) return i;
    }
    // The category's popular items lack the term: draw among the matching ones by popularity.
    const members = this.catItems.subarray(this.catStart[c]!, this.catStart[c + 1]!);
    let total = 0;
    for (const i of members) if (this.matches(i, c, term)) total += this.popularity[i]!;
    if (total === 0) return this.sampleInCategory(c, rng);
    let x = rng.float() * total;
    let last = -1;
    for (const i of members) {
      if (!this.matches(i, c, term)) continue;
      last = i;
      x -= this.popularity[i]!;
      if (x < 0) return i;
    }
    return last;
  }

  private slotWeight(j: number): number {
    return this.slotCdf[j]! - (j === 0 ? 0 : this.slotCdf[j - 1]!);
  }
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}
