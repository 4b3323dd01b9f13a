import type { Tensor, Tensor2D } from '@tensorflow/tfjs';
import { dropout } from '../ops';
import { tf } from '../tf';
import {
  asInt,
  assertPositiveInt,
  assertRate,
  fmtShape,
  assertInit,
  initializer,
  inputList,
  isTraining,
  shapeList,
  type ItemIndexedLayer,
  type Kwargs,
  type LayerArgs,
  type LayerVariable,
  type Shape,
  type WeightInit,
} from './common';

export type PositionsFrom = 'end' | 'start';

export interface ItemEmbeddingArgs extends LayerArgs {
  /** Items are 1..numItems; row 0 of the table is padding. */
  numItems: number;
  /** Embedding width d. */
  dim: number;
  /** Longest input accepted; size of the positional table when `positional`. */
  maxLen: number;
  /** Add a learned positional embedding (SASRec). */
  positional?: boolean;
  /**
   * How positions are counted in a left-padded row. `end` (default): from the newest item, which is
   * always position maxLen - 1 (the original SASRec code). `start`: from the oldest item in the
   * window, which is position 0 (the right-padded PyTorch SASRec+ code): the position then also
   * says how far into their history (or the window) the user is.
   */
  positionsFrom?: PositionsFrom;
  /** Size of the event-type vocabulary; 0 (default) = no type input. With types, the layer takes [ids, types]. */
  numTypes?: number;
  /** Multiply item embeddings by sqrt(dim) before adding positions (SASRec). */
  scale?: boolean;
  /** Dropout on the summed embedding while training. */
  dropout?: number;
  /** Zero the output at padding positions (id 0). Default true. */
  maskPadding?: boolean;
  /** Initialiser of the tables (default `glorot`). */
  init?: WeightInit;
  /** Initialiser seed. */
  seed?: number;
}

/**
 * Item (+ positional, + event-type) embedding of left-padded id sequences: ids [B, L] (or
 * [ids, types]) → [B, L, d]. Holds the item table [numItems + 1, d], which the models also use as
 * the output (scoring) table.
 */
export class ItemEmbedding extends tf.layers.Layer implements ItemIndexedLayer {
  static className = 'SeqrecItemEmbedding';
  readonly numItems: number;
  readonly dim: number;
  readonly maxLen: number;
  readonly positional: boolean;
  readonly positionsFrom: PositionsFrom;
  readonly numTypes: number;
  readonly scale: boolean;
  readonly rate: number;
  readonly maskPadding: boolean;
  readonly init: WeightInit;
  readonly seed: number | undefined;
  private items: LayerVariable | null = null;
  private positions: LayerVariable | null = null;
  private types: LayerVariable | null = null;

  constructor(args: ItemEmbeddingArgs) {
    super(args);
    assertPositiveInt('ItemEmbedding', 'numItems', args.numItems);
    assertPositiveInt('ItemEmbedding', 'dim', args.dim);
    assertPositiveInt('ItemEmbedding', 'maxLen', args.maxLen);
    const numTypes = args.numTypes ?? 0;
    if (!Number.isInteger(numTypes) || numTypes < 0) {
      throw new RangeError(`ItemEmbedding: numTypes must be a non-negative integer, got ${numTypes}`);
    }
    const rate = args.dropout ?? 0;
    assertRate('ItemEmbedding', 'dropout', rate);
    this.numItems = args.numItems;
    this.dim = args.dim;
    this.maxLen = args.maxLen;
    this.positional = args.positional ?? false;
    const from = args.positionsFrom ?? 'end';
    if (from !== 'end' && from !== 'start') throw new RangeError(`ItemEmbedding: positionsFrom must be end|start, got ${String(from)}`);
    this.positionsFrom = from;
    this.numTypes = numTypes;
    this.scale = args.scale ?? false;
    this.rate = rate;
    this.maskPadding = args.maskPadding ?? true;
    const init = args.init ?? 'glorot';
    assertInit('ItemEmbedding', init);
    this.init = init;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = shapeList(inputShape);
    const want = this.numTypes > 0 ? 2 : 1;
    if (shapes.length !== want) {
      throw new Error(`ItemEmbedding ${this.name}: expected ${want} input(s) (ids${want === 2 ? ', types' : ''}), got ${shapes.length}`);
    }
    this.items = this.addWeight('items', [this.numItems + 1, this.dim], 'float32', initializer(this.init, this.seed, 0));
    if (this.positional) this.positions = this.addWeight('positions', [this.maxLen, this.dim], 'float32', initializer(this.init, this.seed, 1));
    if (this.numTypes > 0) this.types = this.addWeight('types', [this.numTypes, this.dim], 'float32', initializer(this.init, this.seed, 2));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = shapeList(inputShape)[0]!;
    return [s[0] ?? null, s[1] ?? null, this.dim];
  }

  /** The item table [numItems + 1, d] (the live variable: do not dispose). */
  itemTable(): Tensor2D {
    if (!this.items) throw new Error(`ItemEmbedding ${this.name}: not built yet`);
    return this.items.read() as Tensor2D;
  }

  /** The item table (positional and event-type tables are not indexed by item). */
  itemIndexedWeights(): LayerVariable[] {
    if (!this.items) throw new Error(`ItemEmbedding ${this.name}: not built yet`);
    return [this.items];
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const list = inputList(this.name, inputs, this.numTypes > 0 ? 2 : 1);
      const ids = asInt(list[0]!);
      if (ids.rank !== 2) throw new Error(`ItemEmbedding ${this.name}: ids must be [B, L], got ${fmtShape(ids.shape)}`);
      const [b, l] = ids.shape as [number, number];
      if (l > this.maxLen) {
        throw new Error(`ItemEmbedding ${this.name}: ids ${fmtShape(ids.shape)} longer than maxLen ${this.maxLen}`);
      }
      let x = tf.gather(this.items!.read(), ids);
      if (this.scale) x = tf.mul(x, Math.sqrt(this.dim));
      if (this.positions) {
        x = tf.add(x, this.positionsFrom === 'end'
          ? tf.slice(this.positions.read(), [this.maxLen - l, 0], [l, this.dim])
          : tf.gather(this.positions.read(), startPositions(ids)));
      }
      if (this.types) {
        const t = asInt(list[1]!);
        if (t.shape[0] !== b || t.shape[1] !== l) {
          throw new Error(`ItemEmbedding ${this.name}: types ${fmtShape(t.shape)} do not match ids ${fmtShape(ids.shape)}`);
        }
        x = tf.add(x, tf.gather(this.types.read(), t));
      }
      x = dropout(x, this.rate, isTraining(kwargs));
      if (this.maskPadding) x = tf.mul(x, tf.expandDims(tf.cast(tf.greater(ids, 0), 'float32'), 2));
      return x;
    });
  }

  override getConfig() {
    return {
      ...super.getConfig(),
      numItems: this.numItems,
      dim: this.dim,
      maxLen: this.maxLen,
      positional: this.positional,
      ...(this.positionsFrom === 'end' ? {} : { positionsFrom: this.positionsFrom }),
      numTypes: this.numTypes,
      scale: this.scale,
      dropout: this.rate,
      maskPadding: this.maskPadding,
      ...(this.init === 'glorot' ? {} : { init: this.init }),
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}
tf.serialization.registerClass(ItemEmbedding);

/**
 * Left-padded ids [B, L] → each column's position counted from the row's oldest item: column c of
 * a row with n items is position c − (L − n); padding columns get 0 (they are masked anyway).
 */
export function startPositions(ids: Tensor): Tensor {
  return tf.tidy(() => {
    const l = ids.shape[1]!;
    const n = tf.sum(tf.cast(tf.greater(ids, 0), 'int32'), 1, true); // [B, 1]
    return tf.maximum(tf.add(tf.range(0, l, 1, 'int32'), tf.sub(n, tf.scalar(l, 'int32'))), tf.scalar(0, 'int32'));
  });
}

/** ids [B, L] → float mask [B, L], 1 where id > 0. */
export class PaddingMask extends tf.layers.Layer {
  static className = 'SeqrecPaddingMask';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0]!;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [ids] = inputList(this.name, inputs, 1) as [Tensor];
      return tf.cast(tf.greater(ids, 0), 'float32');
    });
  }
}
tf.serialization.registerClass(PaddingMask);

/** [x [B, L, d], mask [B, L]] → x × mask: zeroes padding positions. */
export class ApplyMask extends tf.layers.Layer {
  static className = 'SeqrecApplyMask';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0]!;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [x, mask] = inputList(this.name, inputs, 2) as [Tensor, Tensor];
      if (x.shape[0] !== mask.shape[0] || x.shape[1] !== mask.shape[1]) {
        throw new Error(`ApplyMask ${this.name}: input ${fmtShape(x.shape)} does not match mask ${fmtShape(mask.shape)}`);
      }
      return tf.mul(x, tf.expandDims(mask, 2));
    });
  }
}
tf.serialization.registerClass(ApplyMask);
