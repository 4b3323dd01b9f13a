import type { Tensor, Tensor2D } from '@tensorflow/tfjs';
import { tf } from '../tf';
import {
  assertPositiveInt,
  fmtShape,
  glorot,
  inputList,
  shapeList,
  type ItemIndexedLayer,
  type LayerArgs,
  type LayerVariable,
  type Shape,
} from './common';

export interface RecencyPoolArgs extends LayerArgs {
  /** Weight of the item k steps before the most recent one is decay^k. 1 = plain mean. */
  decay: number;
  /** L2-normalise item vectors before averaging (cosine scoring). */
  normalize?: boolean;
}

/**
 * Recency-weighted mean of item vectors: [x [B, L, d], mask [B, L]] → [B, d], with the most
 * recent item in the last column (left padding). All-padding rows give zeros.
 */
export class RecencyPool extends tf.layers.Layer {
  static className = 'SeqrecRecencyPool';
  readonly decay: number;
  readonly normalize: boolean;

  constructor(args: RecencyPoolArgs) {
    super(args);
    if (!(args.decay > 0 && args.decay <= 1)) throw new RangeError(`RecencyPool: decay must be in (0, 1], got ${args.decay}`);
    this.decay = args.decay;
    this.normalize = args.normalize ?? false;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = shapeList(inputShape)[0]!;
    return [s[0] ?? null, s[2] ?? null];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [x0, mask] = inputList(this.name, inputs, 2) as [Tensor, Tensor];
      if (x0.rank !== 3 || mask.rank !== 2 || x0.shape[0] !== mask.shape[0] || x0.shape[1] !== mask.shape[1]) {
        throw new Error(`RecencyPool ${this.name}: x ${fmtShape(x0.shape)} and mask ${fmtShape(mask.shape)} do not fit [B, L, d] / [B, L]`);
      }
      const l = x0.shape[1]!;
      const x = this.normalize ? tf.div(x0, tf.add(tf.norm(x0, 'euclidean', -1, true), 1e-12)) : x0;
      const decays = new Float32Array(l);
      for (let t = 0; t < l; t++) decays[t] = Math.pow(this.decay, l - 1 - t);
      const w = tf.mul(mask, tf.tensor1d(decays)); // [B, L]
      const total = tf.maximum(tf.sum(w, 1, true), 1e-12); // [B, 1]
      return tf.div(tf.sum(tf.mul(x, tf.expandDims(w, 2)), 1), total);
    });
  }

  override getConfig() {
    return { ...super.getConfig(), decay: this.decay, normalize: this.normalize };
  }
}
tf.serialization.registerClass(RecencyPool);

export interface ItemTableArgs extends LayerArgs {
  numItems: number;
  dim: number;
  /** `zeros` (word2vec's choice for context vectors) or seeded Glorot-uniform. */
  init?: 'zeros' | 'glorot';
  seed?: number;
}

/**
 * Holds a second item table [numItems + 1, d] (item2vec's context vectors, used for scoring) and
 * passes its input through unchanged: being in the graph is what gets the table saved and loaded
 * with the model.
 */
export class ItemTable extends tf.layers.Layer implements ItemIndexedLayer {
  static className = 'SeqrecItemTable';
  readonly numItems: number;
  readonly dim: number;
  readonly init: 'zeros' | 'glorot';
  readonly seed: number | undefined;
  private table: LayerVariable | null = null;

  constructor(args: ItemTableArgs) {
    super(args);
    assertPositiveInt('ItemTable', 'numItems', args.numItems);
    assertPositiveInt('ItemTable', 'dim', args.dim);
    this.numItems = args.numItems;
    this.dim = args.dim;
    this.init = args.init ?? 'zeros';
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = shapeList(inputShape)[0]!;
    if (s[s.length - 1] != null && s[s.length - 1] !== this.dim) {
      throw new Error(`ItemTable ${this.name}: input ${fmtShape(s)} does not match table ${fmtShape([this.numItems + 1, this.dim])}`);
    }
    const init = this.init === 'zeros' ? tf.initializers.zeros() : glorot(this.seed, 0);
    this.table = this.addWeight('items', [this.numItems + 1, this.dim], 'float32', init);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0]!;
  }

  /** The table [numItems + 1, d] (the live variable: do not dispose). */
  itemTable(): Tensor2D {
    if (!this.table) throw new Error(`ItemTable ${this.name}: not built yet`);
    return this.table.read() as Tensor2D;
  }

  /** The table itself: one row per item. */
  itemIndexedWeights(): LayerVariable[] {
    if (!this.table) throw new Error(`ItemTable ${this.name}: not built yet`);
    return [this.table];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const [x] = inputList(this.name, inputs, 1) as [Tensor];
    return tf.clone(x);
  }

  override getConfig() {
    return {
      ...super.getConfig(),
      numItems: this.numItems,
      dim: this.dim,
      init: this.init,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}
tf.serialization.registerClass(ItemTable);
