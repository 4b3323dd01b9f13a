/**
 * A loaded model version as the scorer serves it: the artifact plus the caches that make a request
 * cheap (state-store item index → model index, normalised item table for similar items), with a
 * reference count so that a hot swap never disposes a model a request is still using.
 */
import { IvfIndex, LoadedModel, dot, type IvfOptions, type ServingArtifact } from '@seqrec/artifacts';
import { AliasTable, Rng } from '@seqrec/random';
import { ExactTopK, fromBatchedTopK, inlineEncoderFor, selectTopK, tf, userVectors, type InlineEncoder, type ItemRules, type Ranked } from '@seqrec/model';
import type { Tensor2D } from '@tensorflow/tfjs';
import type { ItemDictionary, SequenceWindow } from '@seqrec/window';

const UNRESOLVED = -2;
const UNKNOWN = -1;

/** A user's window in model terms: known items only, oldest first. */
export interface ModelHistory {
  ids: Int32Array;
  types: Uint8Array;
  /** Events of the window whose item the model does not know (dropped). */
  dropped: number;
}

export class ServingModel extends LoadedModel {
  /** State-store item index → model index (-1 unknown to the model, -2 not looked up yet). */
  private storeToModel = new Int32Array(0);
  /** [d, N + 1] scoring table, transposed, for stored user vectors (lazy). */
  private scoringT: Tensor2D | null = null;
  /** The scoring table's rows in JS memory ([N + 1] × d), for ranking a few candidates without a kernel launch (lazy). */
  private rows: Float32Array | null = null;
  /** Approximate top-k index over the item table, when the scorer is configured with one. */
  private ivf: IvfIndex | null = null;
  /** Exact top-k over the item table from an int8 copy plus full-precision rescoring (lazy). */
  private exact: ExactTopK | null = null;
  /** The per-window WebAssembly SIMD encoder (lazy; null for models it does not cover). */
  private inline: InlineEncoder | null | undefined;

  constructor(
    artifact: ServingArtifact,
    private readonly onDisposed: (m: ServingModel) => void = () => undefined,
  ) {
    super(artifact);
  }

  /** Maps a state-store window to model indices; unknown items are dropped. */
  async history(window: SequenceWindow | null, items: ItemDictionary): Promise<ModelHistory> {
    const events = window?.events ?? [];
    const maxStore = events.reduce((m, e) => Math.max(m, e.item), -1);
    if (maxStore >= this.storeToModel.length) {
      const grown = new Int32Array(Math.max(maxStore + 1, this.storeToModel.length * 2, 1024)).fill(UNRESOLVED);
      grown.set(this.storeToModel);
      this.storeToModel = grown;
    }
    let missing: number[] | null = null;
    for (const e of events) if (e.item >= 0 && this.storeToModel[e.item] === UNRESOLVED) (missing ??= []).push(e.item);
    if (missing) {
      const ids = await items.idsOf(missing);
      missing.forEach((ix, k) => {
        const id = ids[k];
        // An id the dictionary does not have yet is retried next time rather than cached as unknown.
        if (id !== undefined) this.storeToModel[ix] = this.artifact.index.get(id) ?? UNKNOWN;
      });
    }
    const ids: number[] = [];
    const types: number[] = [];
    let dropped = 0;
    for (const e of events) {
      if (e.item < 0) continue;
      const m = this.storeToModel[e.item]!;
      if (m <= 0) {
        dropped++;
        continue;
      }
      ids.push(m);
      types.push(e.type);
    }
    return { ids: Int32Array.from(ids), types: Uint8Array.from(types), dropped };
  }

  /** Most popular items (training data), best first, that pass the rules (the same selection as every top-k). */
  popular(k: number, rules?: ItemRules | null): Ranked {
    const order = this.artifact.popularOrder;
    return selectTopK(k, rules, order.length, (width, accept) => {
      const items: number[] = [];
      const scores: number[] = [];
      for (let i = 0; i < order.length && items.length < width; i++) {
        const it = order[i]!;
        if (accept && !accept(it)) continue;
        items.push(it);
        scores.push(this.artifact.popularity[it]!);
      }
      return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
    });
  }

  /** True when a stored user vector can stand for the encoder's output (dot-product scoring models; never a graph model). */
  get acceptsUserVectors(): boolean {
    return this.graph === null && this.encoder.perPosition;
  }

  /**
   * An encoder for one live window at a time with no TF kernel launch (SASRec, GRU4Rec, LSTM in
   * WebAssembly SIMD, ~0.3 ms for 50 events × 64): its vector is then scored like a stored one.
   * Null for item2vec, which goes through micro-batched TF passes.
   */
  get inlineEncoder(): InlineEncoder | null {
    if (this.graph) return null;
    if (this.inline === undefined) this.inline = inlineEncoderFor(this.encoder, this.acceptsUserVectors ? this.itemRows() : undefined);
    return this.inline;
  }

  /** The approximate index in use, if any. */
  get index(): IvfIndex | null {
    return this.ivf;
  }

  /**
   * Builds the approximate top-k index over the item table, measures its recall@20 against
   * exact top-k, and keeps it only when that reaches `minRecall`. Measured on `sampleUsers` user vectors the encoder makes from histories drawn by item
   * popularity (what real users look like to this model, without needing real users at load).
   */
  async buildIndex(options: IvfOptions, minRecall = 0, sampleUsers = 200): Promise<{ recallAt20: number; seconds: number; used: boolean }> {
    const t0 = performance.now();
    const d = this.encoder.config.dim;
    const n = this.artifact.vocabulary.length;
    const index = await IvfIndex.build(this.itemRows(), n, d, options);
    // Sample histories by popularity (seeded) and encode them.
    const rng = new Rng(12345);
    const weights = Float64Array.from(this.artifact.popularity, (p, i) => (i === 0 ? 0 : Math.max(p, 1e-3)));
    const byPopularity = new AliasTable(weights);
    const draw = () => byPopularity.sample(rng);
    const rand = () => rng.float();
    const histories = Array.from({ length: sampleUsers }, () => Int32Array.from({ length: 5 + Math.floor(rand() * 26) }, draw));
    const types = this.encoder.config.numTypes > 0 ? histories.map((h) => new Uint8Array(h.length)) : undefined;
    // Encoded in small chunks (each an await): this runs during a hot swap, beside live requests.
    const queries: Float32Array[] = [];
    for (let i = 0; i < histories.length; i += 32) {
      queries.push(...(await userVectors(this.encoder, histories.slice(i, i + 32), types?.slice(i, i + 32))));
    }
    const recallAt20 = await index.recallAt(queries, 20);
    // below the floor the index would change answers too often: exact top-k serves this version
    const used = recallAt20 >= minRecall;
    if (used) this.ivf = index;
    return { recallAt20, seconds: (performance.now() - t0) / 1000, used };
  }

  /** Top-k for user vectors with the approximate index (JS, per vector; no kernel launch). */
  topKIndexed(vectors: readonly ArrayLike<number>[], k: number, exclude: readonly Int32Array[], accept?: (item: number) => boolean): Array<{ items: Int32Array; scores: Float32Array }> {
    const index = this.ivf;
    if (!index) throw new Error(`${this.name}@${this.version} has no approximate index`);
    return vectors.map((v, j) => index.search(v, k, exclude[j]!.length ? new Set(exclude[j]) : null, index.probes, accept));
  }

  /**
   * Top-k for live windows (one forward pass for all of them): exact over every item, or through
   * the approximate index when there is one.
   */
  async topKHistories(
    histories: readonly Int32Array[],
    types: readonly Uint8Array[] | undefined,
    k: number,
    exclude: readonly Int32Array[],
  ): Promise<Array<{ items: Int32Array; scores: Float32Array }>> {
    const encoder = this.encoder;
    if (!this.ivf) return encoder.topK(histories, k, { exclude, ...(types ? { types } : {}) });
    return this.topKIndexed(await userVectors(encoder, histories, types), k, exclude);
  }

  /**
   * Exact top-k items for user vectors (no forward pass): one matMul with the transposed item
   * table. (With the approximate index, the scorer calls {@link topKIndexed} directly: no batch.)
   */
  async topKVectors(vectors: readonly Float32Array[], k: number, exclude: readonly Int32Array[]): Promise<Array<{ items: Int32Array; scores: Float32Array }>> {
    const n = this.artifact.vocabulary.length;
    const d = this.encoder.config.dim;
    if (!this.scoringT) this.scoringT = tf.tidy(() => tf.transpose(this.encoder.itemTable()) as Tensor2D);
    const flat = new Float32Array(vectors.length * d);
    vectors.forEach((v, i) => flat.set(v, i * d));
    const maxExcl = exclude.reduce((m, e) => Math.max(m, e.length), 0);
    // One extra candidate stands in for the padding column (index 0), skipped below: cheaper than
    // masking it with a bias over the whole [B, N + 1] score matrix.
    const kk = Math.min(n, k + maxExcl + 1);
    const top = tf.tidy(() => tf.topk(tf.matMul(tf.tensor2d(flat, [vectors.length, d]), this.scoringT!), kk, true));
    const [vals, idx] = await Promise.all([top.values.data(), top.indices.data()]);
    top.values.dispose();
    top.indices.dispose();
    return fromBatchedTopK(vals, idx, vectors.length, kk, k, (j) => (exclude[j]!.length ? new Set(exclude[j]) : null));
  }

  /**
   * Exact top-k for one user vector with no kernel launch and no batch to wait for: an int8 scan of
   * the item table in WebAssembly SIMD bounds every item's score, and the few items that can still
   * be in the top k are scored in full precision (ExactTopK). The same items and order as scoring
   * every item; the padding row is never returned.
   */
  topKExact(vector: Float32Array, k: number, exclude: Int32Array, accept?: (item: number) => boolean): { items: Int32Array; scores: Float32Array } {
    return this.exactTopK().topK(vector, k, exclude, accept);
  }

  /** Rows rescored in full precision by the last {@link topKExact} (the bound's tightness). */
  get exactRescored(): number {
    return this.exact?.lastRescored ?? 0;
  }

  private exactTopK(): ExactTopK {
    return (this.exact ??= new ExactTopK(this.itemRows(), this.artifact.vocabulary.length, this.encoder.config.dim, 1));
  }

  /**
   * Scores of candidate items (model indices, 0 = unknown → 0) for a stored user vector: dot
   * products in JS over the item rows. For the ~10–1,000 candidates of a re-rank this costs
   * microseconds, less than dispatching one kernel, and needs no micro-batch.
   */
  scoreVector(vector: Float32Array, candidates: Int32Array): Float32Array {
    const d = this.encoder.config.dim;
    if (vector.length !== d) throw new RangeError(`user vector has ${vector.length} dimensions, the model ${d}`);
    const rows = this.itemRows();
    const out = new Float32Array(candidates.length);
    for (let q = 0; q < candidates.length; q++) {
      const c = candidates[q]!;
      if (c > 0) out[q] = dot(vector, rows, c * d, d);
    }
    return out;
  }

  /** A copy of the item's row of the scoring table. */
  itemVector(index: number): Float32Array {
    const d = this.encoder.config.dim;
    return this.itemRows().slice(index * d, (index + 1) * d);
  }

  /** Loads the caches a first request would otherwise pay for (the JS item rows; the int8 table when `exact`). */
  warmVectors(exact = false): void {
    if (!this.acceptsUserVectors) return;
    this.itemRows();
    // A real item's vector as the query: a zero vector bounds nothing and would rescore every row.
    if (exact) this.exactTopK().topK(this.exactTopK().row(this.artifact.popularOrder[0] ?? 1), 1);
  }

  /** The scoring table's rows copied to JS once (12.8 MB for 50,000 × 64). */
  private itemRows(): Float32Array {
    return (this.rows ??= this.encoder.itemTable().dataSync() as Float32Array);
  }

  protected override disposeCaches(): void {
    this.rows = null;
    this.exact = null;
    this.ivf = null;
    this.inline = null;
    this.scoringT?.dispose();
    this.scoringT = null;
  }

  protected override onDispose(): void {
    this.onDisposed(this);
  }

}

/**
 * The one served model. `acquire` hands out the current model with a reference taken; `swap`
 * installs a new one atomically and retires the old one, which is disposed when its last request
 * releases it.
 */
export class ModelSlot {
  private current: ServingModel | null = null;

  get model(): ServingModel | null {
    return this.current;
  }

  acquire(): ServingModel | null {
    return this.current ? this.current.acquire() : null;
  }

  swap(next: ServingModel): ServingModel | null {
    const old = this.current;
    this.current = next;
    old?.retire();
    return old;
  }

  close(): void {
    this.current?.retire();
    this.current = null;
  }
}
