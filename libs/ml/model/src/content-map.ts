import type { ItemV1 } from '@seqrec/contracts';

/**
 * Item vectors from item content, for items a model has never seen: a ridge regression from an
 * item's content features (category path, brand, title tokens, any attribute, each a string such
 * as `cat:12` or `brand:acme` worth 1; an image vector's components, each a `[name, value]` pair)
 * to its row of the model's item table, fitted at training time on the items the model knows. A new item's vector lands in the model's own item space, so it is scored,
 * re-ranked and recommended like any other item.
 *
 *   ŷ(x) = ȳ + (x − x̄) W,   W = ((X − x̄)ᵀ(X − x̄) + λI)⁻¹ (X − x̄)ᵀ(Y − ȳ)
 *
 * with X the known items' feature matrix (1 for a named feature, the value of a valued one), x̄ its mean row, Y their item rows and ȳ the mean
 * row (an unpenalised intercept). λ is chosen
 * from a few candidates by the squared error on a seeded share of the known items held out of the
 * fit, then the map is refitted on all of them. The feature vocabulary is the `maxFeatures` most
 * frequent features seen on at least `minCount` known items (the normal equations are F × F,
 * solved by Cholesky in O(F³): 2,000 features take about a second).
 */

export interface ContentMapOptions {
  /** λ candidates. Default [0.1, 1, 10, 100]. */
  lambdas?: readonly number[];
  /** Share of known items held out to choose λ. Default 0.1. */
  validationShare?: number;
  /** Features on fewer known items are ignored. Default 2. */
  minCount?: number;
  /** Largest feature vocabulary. Default 2,000. */
  maxFeatures?: number;
  seed?: number;
}

/** One content feature: a name (worth 1), or a name and its value (an image vector's component). */
export type ContentFeature = string | readonly [string, number];

/** The map's file format version ({@link ContentMapJson.format}). */
export const CONTENT_MAP_FORMAT = 1;

export interface ContentMapJson {
  /** {@link CONTENT_MAP_FORMAT}; absent in maps written before it existed (read as 1). */
  format?: number;
  features: string[];
  dim: number;
  lambda: number;
  /** The intercept: the vector of an item with none of the features. */
  mean: number[];
  /** Row-major [features, dim]. */
  weights: number[];
  /** Score calibration ({@link ContentMap.calibrate}); absent in maps written before it existed (no calibration). */
  calibration?: ContentCalibrationJson;
}

/**
 * The first two moments, over the known items, of their rows of the model's item table and of the
 * map's predictions for them: what {@link ContentMap.calibrate} needs to put a content vector's
 * score on the scale of the model's own items' scores for the same user.
 */
export interface ContentCalibrationJson {
  /** Mean row of the known items, [dim]. */
  knownMean: number[];
  /** Covariance of the known items' rows, row-major [dim, dim]. */
  knownCov: number[];
  /** Mean of the map's predictions for the known items with a known feature, [dim]. */
  predictedMean: number[];
  /** Covariance of those predictions, row-major [dim, dim]. */
  predictedCov: number[];
}

/**
 * A user's content scores on the model's scale: `offset + scale × (user · content vector)`, and the
 * mean and standard deviation of the user's scores over the model's own items.
 */
export interface ContentScoreScale {
  offset: number;
  scale: number;
  knownMean: number;
  knownSd: number;
}

export class ContentMap {
  private readonly index: Map<string, number>;

  private constructor(
    readonly features: readonly string[],
    readonly dim: number,
    readonly lambda: number,
    private readonly mean: Float64Array,
    private readonly weights: Float64Array,
    private readonly calibration: Calibration | null,
  ) {
    this.index = new Map(features.map((f, i) => [f, i]));
  }

  /** Whether the map carries calibration statistics (maps written before them do not). */
  get calibrated(): boolean {
    return this.calibration !== null;
  }

  /**
   * Fits the map from `itemFeatures[i]` to row `i` of `rows` ([items, dim], row-major). Items
   * without any feature take part only in the mean.
   */
  static fit(itemFeatures: readonly (readonly ContentFeature[])[], rows: Float32Array, dim: number, options: ContentMapOptions = {}): ContentMap {
    const n = itemFeatures.length;
    if (rows.length !== n * dim) throw new RangeError(`rows has ${rows.length} values, expected ${n} × ${dim}`);
    const counts = new Map<string, number>();
    for (const fs of itemFeatures) for (const f of new Set(fs.map(nameOf))) counts.set(f, (counts.get(f) ?? 0) + 1);
    const minCount = options.minCount ?? 2;
    const features = [...counts.entries()]
      .filter(([, c]) => c >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, options.maxFeatures ?? 2000)
      .map(([f]) => f);
    const index = new Map(features.map((f, i) => [f, i]));
    const encoded = itemFeatures.map((fs) => encode(index, fs));

    // λ on a seeded hold-out of the known items
    const lambdas = options.lambdas ?? [0.1, 1, 10, 100];
    let lambda = lambdas[0]!;
    if (lambdas.length > 1 && n >= 20) {
      const share = options.validationShare ?? 0.1;
      let s = (options.seed ?? 1) >>> 0 || 1;
      const held = Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) < share);
      const fitIdx: number[] = [];
      const valIdx: number[] = [];
      for (let i = 0; i < n; i++) (held[i] ? valIdx : fitIdx).push(i);
      let best = Infinity;
      for (const l of lambdas) {
        const m = solve(fitIdx, encoded, rows, dim, features.length, l);
        let err = 0;
        for (const i of valIdx) {
          const y = predict(m.mean, m.weights, dim, encoded[i]!);
          for (let j = 0; j < dim; j++) err += (y[j]! - rows[i * dim + j]!) ** 2;
        }
        if (err < best) {
          best = err;
          lambda = l;
        }
      }
    }
    const all = Array.from({ length: n }, (_, i) => i);
    const m = solve(all, encoded, rows, dim, features.length, lambda);
    // the moments of the known rows and of the map's predictions for the known items with content
    const known = moments(n, dim, (i) => rows.subarray(i * dim, (i + 1) * dim));
    const withFeatures = all.filter((i) => encoded[i]!.idx.length > 0);
    const predicted = moments(withFeatures.length, dim, (q) => predict(m.mean, m.weights, dim, encoded[withFeatures[q]!]!));
    const calibration = withFeatures.length >= 2 ? { knownMean: known.mean, knownCov: known.cov, predictedMean: predicted.mean, predictedCov: predicted.cov } : null;
    return new ContentMap(features, dim, lambda, m.mean, m.weights, calibration);
  }

  static fromJSON(j: ContentMapJson): ContentMap {
    if ((j.format ?? 1) !== CONTENT_MAP_FORMAT) throw new RangeError(`content map: unknown format ${String(j.format)}`);
    if (j.weights.length !== j.features.length * j.dim || j.mean.length !== j.dim) throw new RangeError('content map: weights or mean of the wrong size');
    const c = j.calibration;
    if (c && (c.knownMean.length !== j.dim || c.predictedMean.length !== j.dim || c.knownCov.length !== j.dim * j.dim || c.predictedCov.length !== j.dim * j.dim)) {
      throw new RangeError('content map: calibration of the wrong size');
    }
    const calibration = c ? { knownMean: Float64Array.from(c.knownMean), knownCov: Float64Array.from(c.knownCov), predictedMean: Float64Array.from(c.predictedMean), predictedCov: Float64Array.from(c.predictedCov) } : null;
    return new ContentMap(j.features, j.dim, j.lambda, Float64Array.from(j.mean), Float64Array.from(j.weights), calibration);
  }

  toJSON(): ContentMapJson {
    const c = this.calibration;
    return {
      format: CONTENT_MAP_FORMAT,
      features: [...this.features],
      dim: this.dim,
      lambda: this.lambda,
      mean: Array.from(this.mean),
      weights: Array.from(this.weights),
      ...(c ? { calibration: { knownMean: Array.from(c.knownMean), knownCov: Array.from(c.knownCov), predictedMean: Array.from(c.predictedMean), predictedCov: Array.from(c.predictedCov) } } : {}),
    };
  }

  /**
   * Score calibration for one user vector u: a ridge prediction is shrunk toward the mean item, so
   * its dot products with u spread less than the model's own items' do, and a new item almost never
   * reaches a top 10 over the full catalogue. This standardises the content scores per user to the
   * known items' score distribution: with m, C the mean and covariance of the known items' rows and
   * m̂, Ĉ those of the map's predictions for them (fitted with the map),
   *
   *   z(u, v) = u·m + (u·v − u·m̂) · √(uᵀCu / uᵀĈu)
   *
   * so over items with the known items' content, new items' scores for u have the mean and variance
   * of known items' scores for u. `weight` w mixes it with the raw score, s = (1 − w) u·v + w z
   * (1: fully standardised, 0: raw). Affine and increasing in u·v: the order among new items is
   * unchanged, only where they fall among the model's items. O(dim²) per user vector. Null when the
   * map carries no calibration (written before it existed) or u has no spread on the predictions.
   */
  calibrate(user: Float32Array, weight = 1): ContentScoreScale | null {
    const c = this.calibration;
    if (!c) return null;
    const d = this.dim;
    const knownVar = quadratic(c.knownCov, user, d);
    const predictedVar = quadratic(c.predictedCov, user, d);
    if (!(predictedVar > 0) || !(knownVar > 0)) return null;
    let knownMean = 0;
    let predictedMean = 0;
    for (let j = 0; j < d; j++) {
      knownMean += user[j]! * c.knownMean[j]!;
      predictedMean += user[j]! * c.predictedMean[j]!;
    }
    const scale = Math.sqrt(knownVar / predictedVar);
    return { offset: weight * (knownMean - scale * predictedMean), scale: 1 - weight + weight * scale, knownMean, knownSd: Math.sqrt(knownVar) };
  }

  /** How many of `features` the map knows. */
  known(features: readonly ContentFeature[]): number {
    let k = 0;
    for (const f of new Set(features.map(nameOf))) if (this.index.has(f)) k++;
    return k;
  }

  /** The item-space vector of an item with these features; null when the map knows none of them. */
  vector(features: readonly ContentFeature[]): Float32Array | null {
    const x = encode(this.index, features);
    if (x.idx.length === 0) return null;
    return Float32Array.from(predict(this.mean, this.weights, this.dim, x));
  }
}

interface Calibration {
  knownMean: Float64Array;
  knownCov: Float64Array;
  predictedMean: Float64Array;
  predictedCov: Float64Array;
}

/** Mean [dim] and covariance [dim, dim] of n vectors. */
function moments(n: number, dim: number, row: (i: number) => ArrayLike<number>): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(dim);
  const cov = new Float64Array(dim * dim);
  for (let i = 0; i < n; i++) {
    const r = row(i);
    for (let j = 0; j < dim; j++) mean[j]! += r[j]! / n;
  }
  const x = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const r = row(i);
    for (let j = 0; j < dim; j++) x[j] = r[j]! - mean[j]!;
    for (let a = 0; a < dim; a++) {
      const xa = x[a]! / n;
      for (let b = a; b < dim; b++) cov[a * dim + b]! += xa * x[b]!;
    }
  }
  for (let a = 0; a < dim; a++) for (let b = 0; b < a; b++) cov[a * dim + b] = cov[b * dim + a]!;
  return { mean, cov };
}

/** uᵀAu for a row-major [d, d] A. */
function quadratic(A: Float64Array, u: Float32Array, d: number): number {
  let s = 0;
  for (let a = 0; a < d; a++) {
    let r = 0;
    for (let b = 0; b < d; b++) r += A[a * d + b]! * u[b]!;
    s += u[a]! * r;
  }
  return s;
}

/** An item's known features: vocabulary indices and their values (first occurrence of a name wins). */
interface Encoded {
  idx: number[];
  val: number[];
}

const nameOf = (f: ContentFeature): string => (typeof f === 'string' ? f : f[0]);

function encode(index: ReadonlyMap<string, number>, features: readonly ContentFeature[]): Encoded {
  const idx: number[] = [];
  const val: number[] = [];
  const seen = new Set<number>();
  for (const f of features) {
    const i = index.get(nameOf(f));
    if (i === undefined || seen.has(i)) continue;
    const v = typeof f === 'string' ? 1 : f[1];
    if (!Number.isFinite(v)) continue;
    seen.add(i);
    idx.push(i);
    val.push(v);
  }
  return { idx, val };
}

function predict(mean: Float64Array, weights: Float64Array, dim: number, x: Encoded): Float64Array {
  const y = Float64Array.from(mean);
  for (let q = 0; q < x.idx.length; q++) {
    const f = x.idx[q]!;
    const v = x.val[q]!;
    for (let j = 0; j < dim; j++) y[j]! += v * weights[f * dim + j]!;
  }
  return y;
}

/** Ridge with an intercept on the items `use`: the intercept ȳ − x̄W (as `mean`) and W [F, dim]. */
function solve(use: readonly number[], encoded: readonly Encoded[], rows: Float32Array, dim: number, F: number, lambda: number): { mean: Float64Array; weights: Float64Array } {
  const mean = new Float64Array(dim);
  for (const i of use) for (let j = 0; j < dim; j++) mean[j]! += rows[i * dim + j]! / use.length;
  const A = new Float64Array(F * F);
  const B = new Float64Array(F * dim);
  for (const i of use) {
    const { idx, val } = encoded[i]!;
    for (let p = 0; p < idx.length; p++) {
      const a = idx[p]!;
      const va = val[p]!;
      for (let q = 0; q < idx.length; q++) A[a * F + idx[q]!]! += va * val[q]!;
      for (let j = 0; j < dim; j++) B[a * dim + j]! += va * (rows[i * dim + j]! - mean[j]!);
    }
  }
  // centre X: (X − x̄)ᵀ(X − x̄) = XᵀX − n x̄x̄ᵀ; (X − x̄)ᵀ(Y − ȳ) = Xᵀ(Y − ȳ) as Σ(Y − ȳ) = 0
  const xbar = new Float64Array(F);
  for (const i of use) {
    const { idx, val } = encoded[i]!;
    for (let p = 0; p < idx.length; p++) xbar[idx[p]!]! += val[p]! / use.length;
  }
  for (let a = 0; a < F; a++) for (let b = 0; b < F; b++) A[a * F + b]! -= use.length * xbar[a]! * xbar[b]!;
  for (let f = 0; f < F; f++) A[f * F + f]! += lambda;
  cholesky(A, F);
  // A = L Lᵀ: solve L Z = B, then Lᵀ W = Z, column by column of B
  const W = B;
  for (let j = 0; j < dim; j++) {
    for (let r = 0; r < F; r++) {
      let v = W[r * dim + j]!;
      for (let c = 0; c < r; c++) v -= A[r * F + c]! * W[c * dim + j]!;
      W[r * dim + j] = v / A[r * F + r]!;
    }
    for (let r = F - 1; r >= 0; r--) {
      let v = W[r * dim + j]!;
      for (let c = r + 1; c < F; c++) v -= A[c * F + r]! * W[c * dim + j]!;
      W[r * dim + j] = v / A[r * F + r]!;
    }
  }
  const intercept = Float64Array.from(mean);
  for (let f = 0; f < F; f++) for (let j = 0; j < dim; j++) intercept[j]! -= xbar[f]! * W[f * dim + j]!;
  return { mean: intercept, weights: W };
}

/** In-place Cholesky of a symmetric positive-definite n × n matrix: its lower triangle becomes L. */
export function cholesky(A: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j]!;
    for (let k = 0; k < j; k++) d -= A[j * n + k]! ** 2;
    if (!(d > 0)) throw new RangeError(`cholesky: the matrix is not positive definite (pivot ${j}: ${d})`);
    const l = Math.sqrt(d);
    A[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let v = A[i * n + j]!;
      for (let k = 0; k < j; k++) v -= A[i * n + k]! * A[j * n + k]!;
      A[i * n + j] = v / l;
    }
  }
}

/** Longest title token kept, and tokens shorter than this are dropped. */
const MAX_TOKEN_LENGTH = 32;
const MIN_TOKEN_LENGTH = 2;

/**
 * The content features of a catalogue item, the same for the trainer (fitting the map) and the
 * scorer (a new item's vector): every level of the category path (`cat:Beauty`,
 * `cat:Beauty/Skin Care`), the brand (`brand:acme`), the title's lower-cased word tokens
 * (`tok:serum`), each attribute as `attr:colour=red`, and the image vector's components as valued
 * features (`[img:0, 0.12]`, ...).
 */
export function itemContentFeatures(item: Pick<ItemV1, 'category' | 'brand' | 'title' | 'attributes' | 'imageVector'>): ContentFeature[] {
  const out: ContentFeature[] = [];
  if (item.category) {
    const levels = item.category.split('/');
    for (let l = 1; l <= levels.length; l++) out.push(`cat:${levels.slice(0, l).join('/')}`);
  }
  if (item.brand) out.push(`brand:${item.brand.trim().toLowerCase()}`);
  if (item.title) {
    const tokens = new Set(item.title.toLowerCase().split(/[^\p{L}\p{N}]+/u));
    for (const t of tokens) if (t.length >= MIN_TOKEN_LENGTH && t.length <= MAX_TOKEN_LENGTH) out.push(`tok:${t}`);
  }
  for (const [k, v] of Object.entries(item.attributes ?? {})) out.push(`attr:${k}=${String(v).trim().toLowerCase()}`);
  item.imageVector?.forEach((v, j) => out.push([`img:${j}`, v]));
  return out;
}
