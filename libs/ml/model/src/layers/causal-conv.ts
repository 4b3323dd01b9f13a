import type { Tensor } from '@tensorflow/tfjs';
import { dense, dropout, relu } from '../ops';
import { tf } from '../tf';
import { assertPositiveInt, assertRate, dimsMatch, fmtShape, glorot, inputList, isTraining, shapeList, type Kwargs, type LayerArgs, type LayerVariable, type Shape } from './common';

export interface CausalConvArgs extends LayerArgs {
  /** Input and output width. */
  dim: number;
  /** Taps per filter. */
  kernelSize: number;
  /** Distance in positions between taps. */
  dilation: number;
  /** ReLU on the input first (the pre-activation residual block of NextItNet). */
  preActivation?: boolean;
  /** Dropout on the output while training. */
  dropout?: number;
  seed?: number;
}

/**
 * A dilated causal 1-D convolution over [x [B, L, dim], mask [B, L]]:
 * y_t = b + Σ_j W_j x_(t − j·dilation), where x is zero before the first position and at padding
 * positions (the mask is applied after the optional ReLU), so a left-padded window gives the same
 * outputs at its real positions whatever the padding width. Written as one
 * matmul of the `kernelSize` shifted copies of x concatenated on the channel axis rather than with
 * `tf.conv1d`, whose gradient in TF.js refuses dilations above 1.
 */
export class CausalConv extends tf.layers.Layer {
  static className = 'SeqrecCausalConv';
  readonly dim: number;
  readonly kernelSize: number;
  readonly dilation: number;
  readonly preActivation: boolean;
  readonly rate: number;
  readonly seed: number | undefined;
  private kernel: LayerVariable | null = null;
  private biasW: LayerVariable | null = null;

  constructor(args: CausalConvArgs) {
    super(args);
    assertPositiveInt('CausalConv', 'dim', args.dim);
    assertPositiveInt('CausalConv', 'kernelSize', args.kernelSize);
    assertPositiveInt('CausalConv', 'dilation', args.dilation);
    const rate = args.dropout ?? 0;
    assertRate('CausalConv', 'dropout', rate);
    this.dim = args.dim;
    this.kernelSize = args.kernelSize;
    this.dilation = args.dilation;
    this.preActivation = args.preActivation ?? false;
    this.rate = rate;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const [s, m] = shapeList(inputShape);
    if (!s || !m || s.length !== 3 || m.length !== 2 || !dimsMatch(s[2], this.dim) || !dimsMatch(s[1], m[1])) {
      throw new Error(`CausalConv ${this.name}: expected [x [B, L, ${this.dim}], mask [B, L]], got x ${fmtShape(s)} and mask ${fmtShape(m)}`);
    }
    this.kernel = this.addWeight('kernel', [this.kernelSize * this.dim, this.dim], 'float32', glorot(this.seed, 0));
    this.biasW = this.addWeight('bias', [this.dim], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0]!;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const [input, mask] = inputList(this.name, inputs, 2) as [Tensor, Tensor];
      let x = input;
      if (x.rank !== 3 || x.shape[2] !== this.dim || mask.rank !== 2 || mask.shape[1] !== x.shape[1]) {
        throw new Error(`CausalConv ${this.name}: expected [x [B, L, ${this.dim}], mask [B, L]], got x ${fmtShape(x.shape)} and mask ${fmtShape(mask.shape)}`);
      }
      if (this.preActivation) x = relu(x);
      x = tf.mul(x, tf.expandDims(mask, 2));
      const [b, l] = x.shape as [number, number, number];
      const reach = (this.kernelSize - 1) * this.dilation;
      const padded = reach > 0 ? tf.pad(x, [[0, 0], [reach, 0], [0, 0]]) : x;
      // tap j (0: the current position) reads position t − j·dilation
      const taps: Tensor[] = [];
      for (let j = 0; j < this.kernelSize; j++) taps.push(tf.slice(padded, [0, reach - j * this.dilation, 0], [b, l, this.dim]));
      const y = dense(taps.length === 1 ? taps[0]! : tf.concat(taps, 2), this.kernel!.read(), this.biasW!.read());
      return dropout(y, this.rate, isTraining(kwargs));
    });
  }

  override getConfig() {
    return {
      ...super.getConfig(),
      dim: this.dim,
      kernelSize: this.kernelSize,
      dilation: this.dilation,
      preActivation: this.preActivation,
      dropout: this.rate,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}
tf.serialization.registerClass(CausalConv);
