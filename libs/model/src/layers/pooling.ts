import type { Tensor } from '@tensorflow/tfjs';
import { tf } from '../tf';
import { fmtShape, inputList, shapeList, type LayerArgs, type Shape } from './common';

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
