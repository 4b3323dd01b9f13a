/**
 * Model configurations. A config fully determines the architecture (it is saved as `config.json`
 * next to the weights); training hyper-parameters live in `TrainOptions` (train.ts), except
 * item2vec's pair-generation settings, which only item2vec uses.
 */
import { EVENT_TYPES } from '@seqrec/contracts';

export type ModelKind = 'sasrec' | 'gru4rec' | 'lstm' | 'nextitnet' | 'item2vec';

export const MODEL_KINDS: readonly ModelKind[] = ['sasrec', 'gru4rec', 'lstm', 'nextitnet', 'item2vec'];

/** Event-type vocabulary size when a model uses event types (`EVENT_TYPES` codes). */
export const DEFAULT_NUM_TYPES = EVENT_TYPES.length;

interface BaseConfig {
  kind: ModelKind;
  /** Items are 1..numItems; 0 is padding. */
  numItems: number;
  /** Item embedding width d (also the user-vector width). */
  dim: number;
  /** Longest history the model reads (the most recent `maxLen` items). */
  maxLen: number;
  /** Event-type vocabulary size; 0 = the model takes no event types. */
  numTypes: number;
  /** Initialiser seed. */
  seed: number;
}

/** SASRec: causal self-attention Transformer (Kang & McAuley, 2018). */
export interface SasrecConfig extends BaseConfig {
  kind: 'sasrec';
  /** Number of Transformer blocks. */
  blocks: number;
  /** Attention heads per block; must divide `dim`. */
  heads: number;
  /** Dropout on embeddings, attention weights and feed-forward outputs. */
  dropout: number;
  /** Feed-forward inner width (SASRec: = dim). */
  innerDim: number;
  /** Layer-norm epsilon. */
  layerNormEps: number;
  /**
   * Block layout. `pre-ln` (default): x += attn(LN(x)); x += ffn(LN(x)), the pre-norm Transformer.
   * `sasrec`: the original SASRec code's block (Kang & McAuley's, and the PyTorch port the SASRec+
   * anchor builds on): q = LN(x); x = q + attn(queries q, keys/values x); h = LN(x); x = h + ffn(h).
   */
  layout: SasrecLayout;
  /** `glorot` (default) or `normal`: N(0, 0.02) tables, output projections and feed-forward kernels (the SASRec+ code's). */
  init: 'glorot' | 'normal';
  /**
   * Where positions are counted from. `end` (default): the newest item is always the last
   * position (the original SASRec code, left-padded). `start`: the oldest item of the window is
   * position 0 (the SASRec+ PyTorch code, right-padded), so a short history's positions also say
   * how far into it the user is.
   */
  positions: 'end' | 'start';
}

export type SasrecLayout = 'pre-ln' | 'sasrec';
export const SASREC_LAYOUTS: readonly SasrecLayout[] = ['pre-ln', 'sasrec'];

/** GRU4Rec-style GRU (`gru4rec`) or LSTM (`lstm`) encoder over item embeddings. */
export interface RnnConfig extends BaseConfig {
  kind: 'gru4rec' | 'lstm';
  /** Hidden state width; when ≠ dim a linear projection maps it to dim. */
  units: number;
  /** Dropout on the input embeddings and on the hidden states. */
  dropout: number;
}

/**
 * NextItNet (Yuan et al., WSDM 2019): a stack of residual blocks of dilated causal 1-D
 * convolutions over the item embeddings (no positional table: the convolutions see order). Each
 * block: x + conv(ReLU(LN(conv(ReLU(LN(x)), r))), 2r) for its dilation r.
 */
export interface ConvConfig extends BaseConfig {
  kind: 'nextitnet';
  /** One residual block per entry, with this dilation (its second convolution uses twice it). */
  dilations: readonly number[];
  /** Taps per convolution. */
  kernelSize: number;
  /** Dropout on the embeddings and on each block's output. */
  dropout: number;
  layerNormEps: number;
}

/** item2vec: skip-gram with negative sampling over sequences; user = recency-weighted mean. */
export interface Item2VecConfig extends BaseConfig {
  kind: 'item2vec';
  /** Recency decay of the user vector: the item k steps back weighs decay^k. */
  decay: number;
  /** `cosine` scores with L2-normalised item (and history) vectors; `dot` with raw ones. */
  similarity: 'dot' | 'cosine';
  /**
   * Which vectors candidates are scored with: `context` (SGNS output vectors: u_in · v_out
   * approximates co-occurrence, i.e. what comes next) or `input` (u_in · v_in: items that share
   * contexts, i.e. substitutes — the classic item2vec "similar items").
   */
  scoreWith: 'context' | 'input';
  /** Maximum skip-gram window (each centre draws its window from 1..window, as word2vec). */
  window: number;
  /** Negatives per positive pair, drawn from unigram^0.75. */
  negatives: number;
  /** Frequent-item subsampling threshold t (word2vec); 0 disables. */
  subsample: number;
}

export type EncoderConfig = SasrecConfig | RnnConfig | ConvConfig | Item2VecConfig;

/** A config with only `kind`, `numItems` required. */
export type EncoderConfigInput =
  | (Partial<SasrecConfig> & { kind: 'sasrec'; numItems: number })
  | (Partial<RnnConfig> & { kind: 'gru4rec' | 'lstm'; numItems: number })
  | (Partial<ConvConfig> & { kind: 'nextitnet'; numItems: number })
  | (Partial<Item2VecConfig> & { kind: 'item2vec'; numItems: number });

function posInt(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${field} must be a positive integer, got ${v}`);
}

function rate(field: string, v: number): void {
  if (!(v >= 0 && v < 1)) throw new RangeError(`${field} must be in [0, 1), got ${v}`);
}

/** Fills defaults (SASRec paper settings for ML-1M, except maxLen 50) and validates. */
export function resolveConfig(input: EncoderConfigInput): EncoderConfig {
  const base = {
    numItems: input.numItems,
    dim: input.dim ?? 50,
    maxLen: input.maxLen ?? 50,
    numTypes: input.numTypes ?? 0,
    seed: input.seed ?? 42,
  };
  let cfg: EncoderConfig;
  switch (input.kind) {
    case 'sasrec':
      cfg = {
        kind: 'sasrec',
        ...base,
        blocks: input.blocks ?? 2,
        heads: input.heads ?? 1,
        dropout: input.dropout ?? 0.2,
        innerDim: input.innerDim ?? base.dim,
        layerNormEps: input.layerNormEps ?? 1e-8,
        layout: input.layout ?? 'pre-ln',
        init: input.init ?? 'glorot',
        positions: input.positions ?? 'end',
      };
      break;
    case 'gru4rec':
    case 'lstm':
      cfg = { kind: input.kind, ...base, units: input.units ?? base.dim, dropout: input.dropout ?? 0.1 };
      break;
    case 'nextitnet':
      cfg = {
        kind: 'nextitnet',
        ...base,
        dilations: input.dilations ?? [1, 2, 4, 8],
        kernelSize: input.kernelSize ?? 3,
        dropout: input.dropout ?? 0.1,
        layerNormEps: input.layerNormEps ?? 1e-8,
      };
      break;
    case 'item2vec':
      cfg = {
        kind: 'item2vec',
        ...base,
        decay: input.decay ?? 0.9,
        similarity: input.similarity ?? 'cosine',
        scoreWith: input.scoreWith ?? 'context',
        window: input.window ?? 5,
        negatives: input.negatives ?? 5,
        subsample: input.subsample ?? 1e-3,
      };
      break;
    default:
      throw new RangeError(`kind must be one of ${MODEL_KINDS.join('|')}, got ${String((input as { kind: unknown }).kind)}`);
  }
  validateConfig(cfg);
  return cfg;
}

/**
 * A stored config brought up to this version's fields (a model saved before a field existed
 * behaves as its default): SASRec's `layout`, `init` and `positions` came later, as `pre-ln` / `glorot` / `end`.
 */
export function upgradeConfig(cfg: EncoderConfig): EncoderConfig {
  if (cfg.kind !== 'sasrec') return cfg;
  const old = cfg as Partial<SasrecConfig> & SasrecConfig;
  return { ...old, layout: old.layout ?? 'pre-ln', init: old.init ?? 'glorot', positions: old.positions ?? 'end' };
}

/** Throws a RangeError naming the first bad field. */
export function validateConfig(cfg: EncoderConfig): void {
  posInt('numItems', cfg.numItems);
  posInt('dim', cfg.dim);
  posInt('maxLen', cfg.maxLen);
  if (!Number.isInteger(cfg.numTypes) || cfg.numTypes < 0) throw new RangeError(`numTypes must be ≥ 0, got ${cfg.numTypes}`);
  if (!Number.isInteger(cfg.seed)) throw new RangeError(`seed must be an integer, got ${cfg.seed}`);
  switch (cfg.kind) {
    case 'sasrec':
      posInt('blocks', cfg.blocks);
      posInt('heads', cfg.heads);
      if (cfg.dim % cfg.heads !== 0) throw new RangeError(`heads (${cfg.heads}) must divide dim (${cfg.dim})`);
      rate('dropout', cfg.dropout);
      posInt('innerDim', cfg.innerDim);
      if (!(cfg.layerNormEps > 0)) throw new RangeError(`layerNormEps must be > 0, got ${cfg.layerNormEps}`);
      if (!SASREC_LAYOUTS.includes(cfg.layout)) throw new RangeError(`layout must be ${SASREC_LAYOUTS.join('|')}, got ${String(cfg.layout)}`);
      if (cfg.init !== 'glorot' && cfg.init !== 'normal') throw new RangeError(`init must be glorot|normal, got ${String(cfg.init)}`);
      if (cfg.positions !== 'end' && cfg.positions !== 'start') throw new RangeError(`positions must be end|start, got ${String(cfg.positions)}`);
      break;
    case 'gru4rec':
    case 'lstm':
      posInt('units', cfg.units);
      rate('dropout', cfg.dropout);
      break;
    case 'nextitnet':
      if (!Array.isArray(cfg.dilations) || cfg.dilations.length === 0) throw new RangeError(`dilations must be a non-empty list, got ${String(cfg.dilations)}`);
      cfg.dilations.forEach((d, i) => posInt(`dilations[${i}]`, d));
      posInt('kernelSize', cfg.kernelSize);
      rate('dropout', cfg.dropout);
      if (!(cfg.layerNormEps > 0)) throw new RangeError(`layerNormEps must be > 0, got ${cfg.layerNormEps}`);
      break;
    case 'item2vec':
      if (cfg.numTypes !== 0) throw new RangeError(`item2vec takes no event types (numTypes must be 0, got ${cfg.numTypes})`);
      if (!(cfg.decay > 0 && cfg.decay <= 1)) throw new RangeError(`decay must be in (0, 1], got ${cfg.decay}`);
      if (cfg.similarity !== 'dot' && cfg.similarity !== 'cosine') {
        throw new RangeError(`similarity must be dot|cosine, got ${String(cfg.similarity)}`);
      }
      if (cfg.scoreWith !== 'context' && cfg.scoreWith !== 'input') {
        throw new RangeError(`scoreWith must be context|input, got ${String(cfg.scoreWith)}`);
      }
      posInt('window', cfg.window);
      posInt('negatives', cfg.negatives);
      if (!(cfg.subsample >= 0)) throw new RangeError(`subsample must be ≥ 0, got ${cfg.subsample}`);
      break;
  }
}
