import type { Tensor } from '@tensorflow/tfjs';
import { dense, dropout, mm } from '../ops';
import { tf } from '../tf';
import {
  assertPositiveInt,
  assertRate,
  dimsMatch,
  fmtShape,
  glorot,
  inputList,
  isTraining,
  shapeList,
  type Kwargs,
  type LayerArgs,
  type LayerVariable,
  type Shape,
} from './common';

export type CellType = 'gru' | 'lstm';

export interface RecurrentArgs extends LayerArgs {
  /** `gru` (GRU4Rec) or `lstm`. */
  cell: CellType;
  /** Input width. */
  inputDim: number;
  /** Hidden state width. */
  units: number;
  /** Dropout on the output sequence while training. */
  dropout?: number;
  /** Initialiser seed. */
  seed?: number;
}

/**
 * A GRU or LSTM over [x [B, L, dIn], mask [B, L]] returning every hidden state [B, L, units].
 * Hand-written rather than `tf.layers.gru/lstm`: the input projection for all time steps is one
 * matmul, each step is one [B, units] × [units, G·units] matmul, and masked (padding) steps carry
 * the state through unchanged, so left padding behaves like no padding.
 * GRU follows the cuDNN/PyTorch variant: n = tanh(Wx·x + bx + r ⊙ (Wh·h + bh)).
 */
export class Recurrent extends tf.layers.Layer {
  static className = 'SeqrecRecurrent';
  readonly cell: CellType;
  readonly inputDim: number;
  readonly units: number;
  readonly rate: number;
  readonly seed: number | undefined;
  private kernel: LayerVariable | null = null;
  private recurrentKernel: LayerVariable | null = null;
  private bias: LayerVariable | null = null;
  private recurrentBias: LayerVariable | null = null;

  constructor(args: RecurrentArgs) {
    super(args);
    if (args.cell !== 'gru' && args.cell !== 'lstm') throw new RangeError(`Recurrent: cell must be gru|lstm, got ${String(args.cell)}`);
    assertPositiveInt('Recurrent', 'inputDim', args.inputDim);
    assertPositiveInt('Recurrent', 'units', args.units);
    const rate = args.dropout ?? 0;
    assertRate('Recurrent', 'dropout', rate);
    this.cell = args.cell;
    this.inputDim = args.inputDim;
    this.units = args.units;
    this.rate = rate;
    this.seed = args.seed;
  }

  private get gates(): number {
    return this.cell === 'gru' ? 3 : 4;
  }

  override build(inputShape: Shape | Shape[]): void {
    const [xs, ms] = shapeList(inputShape);
    if (!xs || !ms || xs.length !== 3 || ms.length !== 2 || !dimsMatch(xs[2], this.inputDim) || !dimsMatch(xs[1], ms[1])) {
      throw new Error(
        `Recurrent ${this.name}: expected [x [B, L, ${this.inputDim}], mask [B, L]], got x ${fmtShape(xs)} and mask ${fmtShape(ms)}`,
      );
    }
    const g = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [this.inputDim, g], 'float32', glorot(this.seed, 0));
    // Glorot rather than orthogonal: tfjs's orthogonal initialiser warns (and is slow) above 2000 elements.
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, g], 'float32', glorot(this.seed, 1));
    this.bias = this.addWeight('bias', [g], 'float32', tf.initializers.zeros());
    if (this.cell === 'lstm') {
      // Forget-gate bias 1 (gate order i, f, g, o).
      const u = this.units;
      const init = tf.tidy(() => tf.concat([tf.zeros([u]), tf.ones([u]), tf.zeros([2 * u])]));
      this.bias.write(init);
      init.dispose();
    }
    if (this.cell === 'gru') this.recurrentBias = this.addWeight('recurrent_bias', [g], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const xs = shapeList(inputShape)[0]!;
    return [xs[0] ?? null, xs[1] ?? null, this.units];
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const [x, mask] = inputList(this.name, inputs, 2) as [Tensor, Tensor];
      if (x.rank !== 3 || x.shape[2] !== this.inputDim || mask.rank !== 2 || x.shape[0] !== mask.shape[0] || x.shape[1] !== mask.shape[1]) {
        throw new Error(
          `Recurrent ${this.name}: x ${fmtShape(x.shape)} and mask ${fmtShape(mask.shape)} do not fit [B, L, ${this.inputDim}] / [B, L]`,
        );
      }
      const [b, l] = x.shape as [number, number, number];
      const u = this.units;
      const xw = dense(x, this.kernel!.read(), this.bias!.read()); // [B, L, G·u]
      const parts = tf.split(xw, this.gates, 2).map((p) => tf.unstack(p, 1)); // gate → step → [B, u]
      const masks = tf.unstack(tf.expandDims(mask, 2), 1); // step → [B, 1]
      const rk = this.recurrentKernel!.read();
      let h: Tensor = tf.zeros([b, u]);
      let c: Tensor = tf.zeros([b, u]);
      const outs: Tensor[] = [];
      for (let t = 0; t < l; t++) {
        let hw = mm(h, rk);
        let hNew: Tensor;
        if (this.cell === 'gru') {
          hw = tf.add(hw, this.recurrentBias!.read());
          const [hr, hz, hn] = tf.split(hw, 3, 1) as [Tensor, Tensor, Tensor];
          const r = tf.sigmoid(tf.add(parts[0]![t]!, hr));
          const z = tf.sigmoid(tf.add(parts[1]![t]!, hz));
          const n = tf.tanh(tf.add(parts[2]![t]!, tf.mul(r, hn)));
          hNew = tf.add(n, tf.mul(z, tf.sub(h, n)));
        } else {
          const [hi, hf, hg, ho] = tf.split(hw, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
          const i = tf.sigmoid(tf.add(parts[0]![t]!, hi));
          const f = tf.sigmoid(tf.add(parts[1]![t]!, hf));
          const gg = tf.tanh(tf.add(parts[2]![t]!, hg));
          const o = tf.sigmoid(tf.add(parts[3]![t]!, ho));
          const cNew = tf.add(tf.mul(f, c), tf.mul(i, gg));
          c = tf.add(c, tf.mul(masks[t]!, tf.sub(cNew, c)));
          hNew = tf.mul(o, tf.tanh(cNew));
        }
        h = tf.add(h, tf.mul(masks[t]!, tf.sub(hNew, h)));
        outs.push(h);
      }
      return dropout(tf.stack(outs, 1), this.rate, isTraining(kwargs));
    });
  }

  override getConfig() {
    return {
      ...super.getConfig(),
      cell: this.cell,
      inputDim: this.inputDim,
      units: this.units,
      dropout: this.rate,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}
tf.serialization.registerClass(Recurrent);

export interface ProjectionArgs extends LayerArgs {
  inputDim: number;
  units: number;
  seed?: number;
}

/** Position-wise linear map [.., inputDim] → [.., units] (RNN hidden size → embedding width). */
export class Projection extends tf.layers.Layer {
  static className = 'SeqrecProjection';
  readonly inputDim: number;
  readonly units: number;
  readonly seed: number | undefined;
  private kernel: LayerVariable | null = null;
  private biasW: LayerVariable | null = null;

  constructor(args: ProjectionArgs) {
    super(args);
    assertPositiveInt('Projection', 'inputDim', args.inputDim);
    assertPositiveInt('Projection', 'units', args.units);
    this.inputDim = args.inputDim;
    this.units = args.units;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = shapeList(inputShape)[0]!;
    if (!dimsMatch(s[s.length - 1], this.inputDim)) {
      throw new Error(`Projection ${this.name}: input ${fmtShape(s)} does not match kernel ${fmtShape([this.inputDim, this.units])}`);
    }
    this.kernel = this.addWeight('kernel', [this.inputDim, this.units], 'float32', glorot(this.seed, 0));
    this.biasW = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = shapeList(inputShape)[0]!;
    return [...s.slice(0, -1), this.units];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [x] = inputList(this.name, inputs, 1) as [Tensor];
      return dense(x, this.kernel!.read(), this.biasW!.read());
    });
  }

  override getConfig() {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      units: this.units,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}
tf.serialization.registerClass(Projection);
