/**
 * Search re-ranking: the shop's search engine sends the candidates of a query with its own
 * relevance (scores, or just their positions); seqrec blends the shopper's personal score with it.
 *
 *   blended = w · z(personal) + (1 − w) · z(engine)
 *
 * z standardises each signal over the request's candidates (mean 0, standard deviation 1), so the
 * two scales meet; positions become relevance 1 / log2(position + 1) first (the DCG discount). An
 * item the model does not know gets the personal z of 0 (the candidates' mean), so it keeps its
 * engine position instead of falling to the end. w is learned on validation data
 * ({@link fitBlendWeight}) and can be overridden per request.
 */

/** Standardised values (mean 0, sd 1) over the finite entries; non-finite entries become 0. Constant input: all 0. */
export function zScores(values: ArrayLike<number>): Float64Array {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      n++;
      sum += v;
    }
  }
  const out = new Float64Array(values.length);
  if (n === 0) return out;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) ss += (v - mean) ** 2;
  }
  const sd = Math.sqrt(ss / n);
  if (!(sd > 0)) return out;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = Number.isFinite(v) ? (v - mean) / sd : 0;
  }
  return out;
}

/** Engine relevance from 1-based positions: 1 / log2(position + 1). */
export function relevanceFromPositions(positions: ArrayLike<number>): Float64Array {
  return Float64Array.from(positions as ArrayLike<number>, (p) => 1 / Math.log2(p + 1));
}

/**
 * Blended scores of the candidates: `personal[i]` is null (or non-finite) for an item the model
 * does not know, `engine[i]` the engine's relevance (higher is better), `weight` in [0, 1] the
 * share of the personal signal.
 */
export function blendScores(personal: ArrayLike<number | null>, engine: ArrayLike<number>, weight: number): Float64Array {
  if (personal.length !== engine.length) throw new RangeError(`personal (${personal.length}) and engine (${engine.length}) scores differ in length`);
  if (!(weight >= 0 && weight <= 1)) throw new RangeError(`weight must be in [0, 1], got ${weight}`);
  const p = zScores(Array.from(personal as ArrayLike<number | null>, (v) => (v === null ? NaN : v)));
  const e = zScores(engine);
  return Float64Array.from(p, (pz, i) => weight * pz + (1 - weight) * e[i]!);
}

/** A search whose clicked (or bought) candidate is known: the material the weight is learned from. */
export interface BlendCase {
  personal: ArrayLike<number | null>;
  engine: ArrayLike<number>;
  /** Index of the clicked candidate. */
  target: number;
}

/** NDCG@10 of the target under `scores` (ties counted against it). */
export function ndcgAt10(scores: ArrayLike<number>, target: number): number {
  const t = scores[target]!;
  let ahead = 0;
  for (let i = 0; i < scores.length; i++) if (i !== target && scores[i]! >= t) ahead++;
  return ahead < 10 ? 1 / Math.log2(ahead + 2) : 0;
}

/** Mean NDCG@10 over the cases for one weight. */
export function meanBlendNdcg(cases: readonly BlendCase[], weight: number): number {
  let sum = 0;
  for (const c of cases) sum += ndcgAt10(blendScores(c.personal, c.engine, weight), c.target);
  return cases.length ? sum / cases.length : 0;
}

/** The weight of `grid` (default 0, 0.05, ..., 1) with the best mean NDCG@10 over `cases`; ties: the smaller weight. */
export function fitBlendWeight(cases: readonly BlendCase[], grid: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20)): { weight: number; ndcg10: number } {
  let best = { weight: grid[0]!, ndcg10: -1 };
  for (const w of grid) {
    const m = meanBlendNdcg(cases, w);
    if (m > best.ndcg10) best = { weight: w, ndcg10: m };
  }
  return best;
}
