/**
 * The one model interface: a {@link SequenceEncoder} maps histories to user vectors [B, d] and holds
 * an item table [N + 1, d]; a score is a dot product. Every model family is a TF.js LayersModel
 * (custom layers, serialisable) wrapped by {@link LayersSequenceEncoder}.
 */
import type { Recommender } from '@seqrec/datasets';
import type { LayersModel, SymbolicTensor, Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs';
import { batchWidth, leftPad } from './batches';
import type { EncoderConfig, EncoderConfigInput, ModelKind } from './config';
import { resolveConfig } from './config';
import { CausalSelfAttention, FeedForward } from './layers/attention';
import { CausalConv } from './layers/causal-conv';
import { ApplyMask, ItemEmbedding, PaddingMask } from './layers/item-embedding';
import { LayerNorm } from './layers/layer-norm';
import { ItemTable, RecencyPool } from './layers/pooling';
import { Projection, Recurrent } from './layers/recurrent';
import { mm } from './ops';
import { tf } from './tf';
import { fromBatchedTopK, type Ranked } from './topk';

/** Name of the embedding layer in every model; it owns the (input) item table. */
export const ITEM_EMBEDDING_LAYER = 'item_embedding';
/** Name of item2vec's context-vector table (present when it scores with context vectors). */
export const CONTEXT_TABLE_LAYER = 'context_table';


export interface TopKOptions {
  /** Per history, items never to return (e.g. already purchased). */
  exclude?: readonly (ArrayLike<number> | null | undefined)[];
  /** Also exclude every item of the history itself. Default false. */
  excludeHistory?: boolean;
  /** Event types per history, for models with type inputs. */
  types?: readonly Uint8Array[];
}

export interface SequenceEncoder extends Recommender {
  readonly name: ModelKind;
  readonly config: Readonly<EncoderConfig>;
  /** The underlying model: inputs ids [B, L] (+ types [B, L]); output [B, L, d] (item2vec: [B, d]). */
  readonly model: LayersModel;
  /** True when the model outputs one state per position (next-item training applies). */
  readonly perPosition: boolean;
  /** Hidden states [B, L, d] for left-padded ids (per-position models only). Caller disposes. */
  hiddenStates(ids: Tensor2D, types: Tensor2D | null, training: boolean): Tensor3D;
  /** User vectors [B, d] for left-padded ids. Caller disposes. */
  encodeIds(ids: Tensor2D, types: Tensor2D | null): Tensor2D;
  /** User vectors [B, d] for raw histories (most recent maxLen items used). Caller disposes. */
  encode(histories: readonly Int32Array[], types?: readonly Uint8Array[]): Tensor2D;
  /** The live item table [N + 1, d] candidates are scored with. Do not dispose. */
  itemTable(): Tensor2D;
  /** The live item table [N + 1, d] histories are embedded with (the same as `itemTable` except for item2vec scoring with context vectors). */
  inputTable(): Tensor2D;
  /** Scores of all items [B, N + 1] for raw histories; see `Recommender.scoreBatch`. */
  scoreBatch(histories: Int32Array[], types?: Uint8Array[]): Promise<Float32Array>;
  /** Best k items per history (padding and excluded items never returned). */
  topK(histories: readonly Int32Array[], k: number, opts?: TopKOptions): Promise<Ranked[]>;
  /** Scores of given candidate items per history. */
  scoreItems(
    histories: readonly Int32Array[],
    candidates: readonly Int32Array[],
    types?: readonly Uint8Array[],
  ): Promise<Float32Array[]>;
  /** Drops cached serving tensors; call after the weights change (the trainer does). */
  invalidate(): void;
  dispose(): void;
}

function buildSasrec(cfg: Extract<EncoderConfig, { kind: 'sasrec' }>, ids: SymbolicTensor, types: SymbolicTensor | null) {
  const init = cfg.init;
  const emb = new ItemEmbedding({
    name: ITEM_EMBEDDING_LAYER,
    numItems: cfg.numItems,
    dim: cfg.dim,
    maxLen: cfg.maxLen,
    positional: true,
    positionsFrom: cfg.positions,
    numTypes: cfg.numTypes,
    scale: true,
    dropout: cfg.dropout,
    init,
    seed: cfg.seed,
  }).apply(types ? [ids, types] : ids) as SymbolicTensor;
  const mask = new PaddingMask({ name: 'padding_mask' }).apply(ids) as SymbolicTensor;
  const original = cfg.layout === 'sasrec';
  let x = emb;
  for (let b = 0; b < cfg.blocks; b++) {
    const seed = cfg.seed + 100 * (b + 1);
    const h = new LayerNorm({ name: `block${b}_ln_attention`, epsilon: cfg.layerNormEps }).apply(x) as SymbolicTensor;
    const a = new CausalSelfAttention({ name: `block${b}_attention`, dim: cfg.dim, heads: cfg.heads, dropout: cfg.dropout, init, seed })
      .apply(original ? [h, x, mask] : [h, mask]) as SymbolicTensor;
    // pre-ln: the residual stream is x; sasrec: it restarts from the normalised states.
    x = tf.layers.add({ name: `block${b}_residual_attention` }).apply([original ? h : x, a]) as SymbolicTensor;
    const h2 = new LayerNorm({ name: `block${b}_ln_ffn`, epsilon: cfg.layerNormEps }).apply(x) as SymbolicTensor;
    const f = new FeedForward({ name: `block${b}_ffn`, dim: cfg.dim, innerDim: cfg.innerDim, dropout: cfg.dropout, init, seed: seed + 10 })
      .apply(h2) as SymbolicTensor;
    x = tf.layers.add({ name: `block${b}_residual_ffn` }).apply([original ? h2 : x, f]) as SymbolicTensor;
    x = new ApplyMask({ name: `block${b}_mask` }).apply([x, mask]) as SymbolicTensor;
  }
  return new LayerNorm({ name: 'final_ln', epsilon: cfg.layerNormEps }).apply(x) as SymbolicTensor;
}

/** The item (+ event-type) embedding without positions, and the padding mask: the input of the RNN, convolutional and item2vec encoders. */
function embedWindow(cfg: EncoderConfig, ids: SymbolicTensor, types: SymbolicTensor | null, dropout?: number): { emb: SymbolicTensor; mask: SymbolicTensor } {
  const emb = new ItemEmbedding({
    name: ITEM_EMBEDDING_LAYER,
    numItems: cfg.numItems,
    dim: cfg.dim,
    maxLen: cfg.maxLen,
    numTypes: cfg.numTypes,
    ...(dropout === undefined ? {} : { dropout }),
    seed: cfg.seed,
  }).apply(types ? [ids, types] : ids) as SymbolicTensor;
  return { emb, mask: new PaddingMask({ name: 'padding_mask' }).apply(ids) as SymbolicTensor };
}

function buildRnn(cfg: Extract<EncoderConfig, { kind: 'gru4rec' | 'lstm' }>, ids: SymbolicTensor, types: SymbolicTensor | null) {
  const { emb, mask } = embedWindow(cfg, ids, types, cfg.dropout);
  let x = new Recurrent({
    name: cfg.kind === 'lstm' ? 'lstm' : 'gru',
    cell: cfg.kind === 'lstm' ? 'lstm' : 'gru',
    inputDim: cfg.dim,
    units: cfg.units,
    dropout: cfg.dropout,
    seed: cfg.seed + 100,
  }).apply([emb, mask]) as SymbolicTensor;
  if (cfg.units !== cfg.dim) {
    x = new Projection({ name: 'projection', inputDim: cfg.units, units: cfg.dim, seed: cfg.seed + 200 }).apply(x) as SymbolicTensor;
  }
  return x;
}

function buildNextItNet(cfg: Extract<EncoderConfig, { kind: 'nextitnet' }>, ids: SymbolicTensor, types: SymbolicTensor | null) {
  const { emb, mask } = embedWindow(cfg, ids, types, cfg.dropout);
  let x = emb;
  cfg.dilations.forEach((r, b) => {
    const seed = cfg.seed + 100 * (b + 1);
    const conv = (name: string, dilation: number, input: SymbolicTensor, rate: number, s: number) => {
      const h = new LayerNorm({ name: `block${b}_ln_${name}`, epsilon: cfg.layerNormEps }).apply(input) as SymbolicTensor;
      return new CausalConv({ name: `block${b}_${name}`, dim: cfg.dim, kernelSize: cfg.kernelSize, dilation, preActivation: true, dropout: rate, seed: s }).apply([h, mask]) as SymbolicTensor;
    };
    const h1 = conv('conv1', r, x, 0, seed);
    const h2 = conv('conv2', 2 * r, h1, cfg.dropout, seed + 10);
    x = tf.layers.add({ name: `block${b}_residual` }).apply([x, h2]) as SymbolicTensor;
    x = new ApplyMask({ name: `block${b}_mask` }).apply([x, mask]) as SymbolicTensor;
  });
  return new LayerNorm({ name: 'final_ln', epsilon: cfg.layerNormEps }).apply(x) as SymbolicTensor;
}

function buildItem2Vec(cfg: Extract<EncoderConfig, { kind: 'item2vec' }>, ids: SymbolicTensor, types: SymbolicTensor | null) {
  const { emb, mask } = embedWindow(cfg, ids, types);
  const pooled = new RecencyPool({ name: 'recency_pool', decay: cfg.decay, normalize: cfg.similarity === 'cosine' }).apply([
    emb,
    mask,
  ]) as SymbolicTensor;
  if (cfg.scoreWith === 'input') return pooled;
  return new ItemTable({ name: CONTEXT_TABLE_LAYER, numItems: cfg.numItems, dim: cfg.dim }).apply(pooled) as SymbolicTensor;
}

/** Builds the LayersModel for a config (fresh, seeded weights). */
export function buildModel(cfg: EncoderConfig): LayersModel {
  const ids = tf.input({ shape: [null], dtype: 'int32', name: 'items' });
  const types = cfg.numTypes > 0 ? tf.input({ shape: [null], dtype: 'int32', name: 'event_types' }) : null;
  let out: SymbolicTensor;
  switch (cfg.kind) {
    case 'sasrec':
      out = buildSasrec(cfg, ids, types);
      break;
    case 'gru4rec':
    case 'lstm':
      out = buildRnn(cfg, ids, types);
      break;
    case 'nextitnet':
      out = buildNextItNet(cfg, ids, types);
      break;
    case 'item2vec':
      out = buildItem2Vec(cfg, ids, types);
      break;
  }
  return tf.model({ inputs: types ? [ids, types] : [ids], outputs: out, name: cfg.kind });
}

/** Creates a fresh model for a (partial) config. */
export function createEncoder(config: EncoderConfigInput): LayersSequenceEncoder {
  const cfg = resolveConfig(config);
  return new LayersSequenceEncoder(cfg, buildModel(cfg));
}

/**
 * User vectors of raw histories as JS arrays, one `Float32Array` [d] per history (event types are
 * passed only to models that take them).
 */
export async function userVectors(encoder: SequenceEncoder, histories: readonly Int32Array[], types?: readonly Uint8Array[]): Promise<Float32Array[]> {
  const t = encoder.encode(histories, encoder.config.numTypes > 0 ? types : undefined);
  const data = (await t.data()) as Float32Array;
  t.dispose();
  const d = encoder.config.dim;
  return histories.map((_, i) => data.slice(i * d, (i + 1) * d));
}

/** Histories per encode/score call on the accelerator; bounds the [chunk, N + 1] score matrix. */
const SCORE_CHUNK = 256;

/** {@link SequenceEncoder} over a TF.js LayersModel built by {@link buildModel} (or loaded). */
export class LayersSequenceEncoder implements SequenceEncoder {
  readonly name: ModelKind;
  readonly perPosition: boolean;
  private readonly embedding: ItemEmbedding;
  private readonly scoring: ItemEmbedding | ItemTable;
  /** [d, N + 1] scoring matrix (normalised rows for cosine item2vec), built lazily. */
  private itemsT: Tensor2D | null = null;
  /** [N + 1, d] scoring rows, only when they differ from the item table (cosine). */
  private scoringRows: Tensor2D | null = null;
  /** [1, N + 1]: -Infinity at column 0 (padding), 0 elsewhere. */
  private paddingBias: Tensor2D | null = null;

  constructor(
    readonly config: Readonly<EncoderConfig>,
    readonly model: LayersModel,
  ) {
    this.name = config.kind;
    this.perPosition = config.kind !== 'item2vec';
    const layer = model.getLayer(ITEM_EMBEDDING_LAYER);
    if (!(layer instanceof ItemEmbedding)) throw new Error(`model has no ${ITEM_EMBEDDING_LAYER} layer of class ItemEmbedding`);
    this.embedding = layer;
    const context = model.layers.find((l) => l.name === CONTEXT_TABLE_LAYER);
    this.scoring = context instanceof ItemTable ? context : layer;
    const inputs = model.inputs.length;
    if (inputs !== (config.numTypes > 0 ? 2 : 1)) {
      throw new Error(`model has ${inputs} inputs but config.numTypes = ${config.numTypes}`);
    }
  }

  private apply(ids: Tensor2D, types: Tensor2D | null, training: boolean): Tensor {
    if (this.config.numTypes > 0 && !types) throw new Error(`${this.name}: this model needs event types`);
    const inputs = this.config.numTypes > 0 ? [ids, types!] : [ids];
    return this.model.apply(inputs, { training }) as Tensor;
  }

  hiddenStates(ids: Tensor2D, types: Tensor2D | null, training: boolean): Tensor3D {
    if (!this.perPosition) throw new Error(`${this.name} has no per-position hidden states`);
    return this.apply(ids, types, training) as Tensor3D;
  }

  encodeIds(ids: Tensor2D, types: Tensor2D | null): Tensor2D {
    return tf.tidy(() => {
      const out = this.apply(ids, types, false);
      if (!this.perPosition) return out as Tensor2D;
      const [b, l, d] = out.shape as [number, number, number];
      return tf.reshape(tf.slice(out, [0, l - 1, 0], [b, 1, d]), [b, d]) as Tensor2D;
    });
  }

  private padded(histories: readonly Int32Array[], types?: readonly Uint8Array[]): { ids: Tensor2D; types: Tensor2D | null } {
    if (this.config.numTypes > 0 && !types) throw new Error(`${this.name}: this model needs event types`);
    const p = leftPad(histories, batchWidth(histories, this.config.maxLen), this.config.numTypes > 0 ? types : undefined);
    return {
      ids: tf.tensor2d(p.ids, [p.rows, p.len], 'int32'),
      types: p.types ? tf.tensor2d(p.types, [p.rows, p.len], 'int32') : null,
    };
  }

  encode(histories: readonly Int32Array[], types?: readonly Uint8Array[]): Tensor2D {
    return tf.tidy(() => {
      const p = this.padded(histories, types);
      return this.encodeIds(p.ids, p.types);
    });
  }

  itemTable(): Tensor2D {
    return this.scoring.itemTable();
  }

  inputTable(): Tensor2D {
    return this.embedding.itemTable();
  }

  private servingTensors(): { itemsT: Tensor2D; rows: Tensor2D; bias: Tensor2D } {
    if (!this.itemsT) {
      const cosine = this.config.kind === 'item2vec' && this.config.similarity === 'cosine';
      this.scoringRows = cosine
        ? tf.tidy(() => {
            const t = this.itemTable();
            return tf.div(t, tf.add(tf.norm(t, 'euclidean', 1, true), 1e-12)) as Tensor2D;
          })
        : null;
      const rows = this.scoringRows ?? this.itemTable();
      this.itemsT = tf.tidy(() => tf.transpose(rows) as Tensor2D);
      const bias = new Float32Array(this.config.numItems + 1);
      bias[0] = -Infinity;
      this.paddingBias = tf.tensor2d(bias, [1, bias.length]);
    }
    return { itemsT: this.itemsT, rows: this.scoringRows ?? this.itemTable(), bias: this.paddingBias! };
  }

  /** Scores [B, N + 1] of a chunk, padding column at -Infinity. Caller disposes. */
  private scoreChunk(histories: readonly Int32Array[], types?: readonly Uint8Array[]): Tensor2D {
    const { itemsT, bias } = this.servingTensors();
    return tf.tidy(() => tf.add(mm(this.encode(histories, types), itemsT), bias) as Tensor2D);
  }

  async scoreBatch(histories: Int32Array[], types?: Uint8Array[]): Promise<Float32Array> {
    const width = this.config.numItems + 1;
    const out = new Float32Array(histories.length * width);
    for (let i = 0; i < histories.length; i += SCORE_CHUNK) {
      const s = this.scoreChunk(histories.slice(i, i + SCORE_CHUNK), types?.slice(i, i + SCORE_CHUNK));
      const data = (await s.data()) as Float32Array;
      s.dispose();
      out.set(data, i * width);
    }
    return out;
  }

  async topK(histories: readonly Int32Array[], k: number, opts: TopKOptions = {}): Promise<Ranked[]> {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
    const n = this.config.numItems;
    const results: Ranked[] = [];
    for (let i = 0; i < histories.length; i += SCORE_CHUNK) {
      const chunk = histories.slice(i, i + SCORE_CHUNK);
      const excl = chunk.map((h, j) => {
        const s = new Set<number>();
        const e = opts.exclude?.[i + j];
        if (e) for (let q = 0; q < e.length; q++) s.add(e[q]!);
        if (opts.excludeHistory) for (const it of h) s.add(it);
        return s;
      });
      const maxExcl = excl.reduce((m, s) => Math.max(m, s.size), 0);
      // One extra candidate stands in for the padding column (index 0), skipped below: cheaper than
      // adding a -Infinity bias over the whole [B, N + 1] score matrix.
      const kk = Math.min(n + 1, k + maxExcl + 1);
      const { itemsT } = this.servingTensors();
      const types = opts.types?.slice(i, i + SCORE_CHUNK);
      const scores = tf.tidy(() => mm(this.encode(chunk, types), itemsT) as Tensor2D);
      const top = tf.topk(scores, kk, true);
      scores.dispose();
      const [vals, idx] = await Promise.all([top.values.data(), top.indices.data()]);
      top.values.dispose();
      top.indices.dispose();
      results.push(...fromBatchedTopK(vals, idx, chunk.length, kk, k, (j) => excl[j]!));
    }
    return results;
  }

  async scoreItems(
    histories: readonly Int32Array[],
    candidates: readonly Int32Array[],
    types?: readonly Uint8Array[],
  ): Promise<Float32Array[]> {
    if (candidates.length !== histories.length) {
      throw new RangeError(`scoreItems: ${histories.length} histories but ${candidates.length} candidate lists`);
    }
    const n = this.config.numItems;
    const out: Float32Array[] = [];
    for (let i = 0; i < histories.length; i += SCORE_CHUNK) {
      const hs = histories.slice(i, i + SCORE_CHUNK);
      const cs = candidates.slice(i, i + SCORE_CHUNK);
      const width = Math.max(1, ...cs.map((c) => c.length));
      const flat = new Int32Array(cs.length * width);
      cs.forEach((c, j) => {
        for (let q = 0; q < c.length; q++) {
          const it = c[q]!;
          if (!Number.isInteger(it) || it < 0 || it > n) throw new RangeError(`scoreItems: candidate ${it} outside 0..${n}`);
          flat[j * width + q] = it;
        }
      });
      const { rows } = this.servingTensors();
      const s = tf.tidy(() => {
        const u = this.encode(hs, types?.slice(i, i + SCORE_CHUNK)); // [B, d]
        const cand = tf.gather(rows, tf.tensor2d(flat, [cs.length, width], 'int32')); // [B, C, d]
        return tf.sum(tf.mul(cand, tf.expandDims(u, 1)), 2);
      });
      const data = (await s.data()) as Float32Array;
      s.dispose();
      cs.forEach((c, j) => out.push(data.slice(j * width, j * width + c.length)));
    }
    return out;
  }

  invalidate(): void {
    this.itemsT?.dispose();
    this.scoringRows?.dispose();
    this.paddingBias?.dispose();
    this.itemsT = this.scoringRows = this.paddingBias = null;
  }

  dispose(): void {
    this.invalidate();
    this.model.dispose();
  }
}
