/**
 * How a target's rank is counted when other candidates have exactly its score.
 *
 * - `pessimistic`: every tied candidate ranks above the target (rank = #greater + #equal). A model
 *   that gives every item the same score gets the worst rank, never a perfect one. This is the
 *   default of the official GRU4Rec evaluation (`mode='conservative'`, `ranks = (scores >= target).sum()`,
 *   the target counted in, i.e. 1-based).
 * - `optimistic`: rank = #candidates with a strictly higher score (GRU4Rec's `'standard'`, and the
 *   common `(scores > target).sum()` in many full-ranking codes). Inflates degenerate models.
 * - `expected`: the expectation of each metric over a uniformly random order of the tied items
 *   (what a random tie-break would give on average; GRU4Rec's `'median'` is close to it).
 *
 * All three agree whenever the target's score is unique, which is the norm for float scores of a
 * trained model; they differ for count-based scores (popularity, co-occurrence).
 */
export type TieMode = 'pessimistic' | 'optimistic' | 'expected';
export const TIE_MODES: readonly TieMode[] = ['pessimistic', 'optimistic', 'expected'];

/**
 * Accumulates ranking metrics of single-target cases from `greater` (competing candidates scored
 * strictly above the target) and `equal` (competing candidates scored exactly like it; the target
 * itself not counted). Ranks are 0-based here: rank 0 is the top.
 *
 * Per case, with one relevant item and 0-based rank r:
 * - HR@K = 1 if r < K; NDCG@K = 1 / log2(r + 2) if r < K (ideal DCG is 1);
 * - MRR = 1 / (r + 1) (no cutoff), MRR@K the same but 0 when r >= K;
 * - Recall@K = HR@K (one relevant item: found or not); Precision@K = HR@K / K;
 *   F1@K = 2PR / (P + R) = 2 HR@K / (K + 1). Averaging the per-case F1 or taking F1 of the
 *   averaged P and R gives the same number here, because P = R / K in every case.
 * Results are means over cases.
 */
export class RankMetrics {
  private readonly ks: number[];
  private readonly hits: Float64Array;
  private readonly ndcg: Float64Array;
  private readonly mrrAt: Float64Array;
  private mrr = 0;
  private n = 0;
  private tied = 0;
  /** discount[r] = 1 / log2(r + 2); prefixDiscount[r] = sum of discount[0..r-1]. */
  private readonly prefixDiscount: Float64Array;
  /** harmonic[r] = sum_{x=1..r} 1/x. */
  private harmonic: Float64Array;

  constructor(
    ks: readonly number[],
    readonly ties: TieMode = 'pessimistic',
  ) {
    for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new RangeError(`cutoffs must be positive integers, got ${k}`);
    this.ks = [...new Set(ks)].sort((a, b) => a - b);
    const m = this.ks.length;
    this.hits = new Float64Array(m);
    this.ndcg = new Float64Array(m);
    this.mrrAt = new Float64Array(m);
    const maxK = this.ks[m - 1] ?? 0;
    this.prefixDiscount = new Float64Array(maxK + 1);
    for (let r = 0; r < maxK; r++) this.prefixDiscount[r + 1] = this.prefixDiscount[r]! + 1 / Math.log2(r + 2);
    this.harmonic = new Float64Array(1);
  }

  /** Number of cases added. */
  get count(): number {
    return this.n;
  }

  /** Cases whose target tied with at least one competing candidate. */
  get tiedCases(): number {
    return this.tied;
  }

  add(greater: number, equal: number): void {
    this.n++;
    if (equal > 0) this.tied++;
    if (this.ties === 'expected' && equal > 0) {
      this.addExpected(greater, equal);
      return;
    }
    const r = this.ties === 'optimistic' ? greater : greater + equal;
    this.mrr += 1 / (r + 1);
    for (let i = 0; i < this.ks.length; i++) {
      const k = this.ks[i]!;
      if (r < k) {
        this.hits[i]! += 1;
        this.ndcg[i]! += 1 / Math.log2(r + 2);
        this.mrrAt[i]! += 1 / (r + 1);
      }
    }
  }

  /** Ranks greater .. greater + equal, each with probability 1 / (equal + 1). */
  private addExpected(g: number, e: number): void {
    const w = 1 / (e + 1);
    const H = this.harmonicUpTo(g + e + 1);
    this.mrr += (H[g + e + 1]! - H[g]!) * w;
    for (let i = 0; i < this.ks.length; i++) {
      const k = this.ks[i]!;
      if (g >= k) continue;
      const last = Math.min(g + e, k - 1);
      this.hits[i]! += (last - g + 1) * w;
      this.ndcg[i]! += (this.prefixDiscount[last + 1]! - this.prefixDiscount[g]!) * w;
      this.mrrAt[i]! += (H[last + 1]! - H[g]!) * w;
    }
  }

  private harmonicUpTo(n: number): Float64Array {
    if (this.harmonic.length <= n) {
      const next = new Float64Array(Math.max(n + 1, this.harmonic.length * 2));
      next.set(this.harmonic);
      for (let r = this.harmonic.length; r < next.length; r++) next[r] = next[r - 1]! + 1 / r;
      this.harmonic = next;
    }
    return this.harmonic;
  }

  /** Mean metrics, keyed `HR@K`, `NDCG@K`, `MRR`, `MRR@K`, `Precision@K`, `Recall@K`, `F1@K`. */
  result(): Record<string, number> {
    const out: Record<string, number> = {};
    const n = this.n || 1;
    for (let i = 0; i < this.ks.length; i++) {
      const k = this.ks[i]!;
      const hr = this.hits[i]! / n;
      out[`HR@${k}`] = hr;
      out[`NDCG@${k}`] = this.ndcg[i]! / n;
      out[`MRR@${k}`] = this.mrrAt[i]! / n;
      out[`Precision@${k}`] = hr / k;
      out[`Recall@${k}`] = hr;
      out[`F1@${k}`] = (2 * hr) / (k + 1);
    }
    out['MRR'] = this.mrr / n;
    return out;
  }
}
