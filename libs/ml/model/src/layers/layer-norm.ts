import type { Tensor } from '@tensorflow/tfjs';
import { layerNorm } from '../ops';
import { tf } from '../tf';
import { fmtShape, inputList, type LayerArgs, type LayerVariable, type Shape } from './common';

export interface LayerNormArgs extends LayerArgs {
  /** Added to the variance before the square root. Default 1e-8 (as in SASRec). */
  epsilon?: number;
}

/**
 * Layer normalisation over the last axis, hand-written (see `layerNorm` in ops.ts for why not
 * `tf.layers.layerNormalization`). Weights: `gamma` (ones) and `beta` (zeros), shape [d].
 */
export class LayerNorm extends tf.layers.Layer {
  static className = 'SeqrecLayerNorm';
  readonly epsilon: number;
  private gamma: LayerVariable | null = null;
  private beta: LayerVariable | null = null;
  private dim: number | null = null;

  constructor(args: LayerNormArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-8;
    if (!(this.epsilon > 0)) throw new RangeError(`LayerNorm: epsilon must be > 0, got ${this.epsilon}`);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = inputShape as Shape;
    const d = shape[shape.length - 1];
    if (d == null) throw new Error(`LayerNorm: last dimension of input ${fmtShape(shape)} must be known`);
    this.dim = d;
    this.gamma = this.addWeight('gamma', [d], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [d], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [x] = inputList(this.name, inputs, 1) as [Tensor];
      if (x.shape[x.rank - 1] !== this.dim) {
        throw new Error(`LayerNorm ${this.name}: input ${fmtShape(x.shape)} does not match gamma ${fmtShape([this.dim])}`);
      }
      return layerNorm(x, this.gamma!.read(), this.beta!.read(), this.epsilon);
    });
  }

  override getConfig() {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(LayerNorm);
