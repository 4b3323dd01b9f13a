import type { Tensor } from '@tensorflow/tfjs';
import { dense, dropout, mm, relu } from '../ops';
import { tf } from '../tf';
import {
  assertPositiveInt,
  assertRate,
  dimsMatch,
  fmtShape,
  assertInit,
  glorot,
  initializer,
  inputList,
  isTraining,
  shapeList,
  type Kwargs,
  type LayerArgs,
  type LayerVariable,
  type Shape,
  type WeightInit,
} from './common';

export interface CausalSelfAttentionArgs extends LayerArgs {
  /** Model width d (input and output). */
  dim: number;
  /** Number of heads; must divide `dim`. */
  heads: number;
  /** Dropout on the attention weights while training. */
  dropout?: number;
  /**
   * `glorot` (default): every kernel Glorot-uniform. `normal`: the output projection N(0, 0.02),
   * the query, key and value kernels Glorot (PyTorch's MultiheadAttention, as the SASRec+ code).
   */
  init?: WeightInit;
  /** Initialiser seed. */
  seed?: number;
}

/** Large negative added to masked attention scores (not -Infinity: fully masked rows stay finite). */
const MASKED = -1e9;

/**
 * Causal multi-head self-attention over [x [B, L, d], mask [B, L]]: position i attends to
 * positions j ≤ i whose mask is 1. Q, K, V and output projections with biases.
 * With three inputs [q [B, L, d], x [B, L, d], mask [B, L]], queries come from q and keys and
 * values from x (the original SASRec block: queries from the layer-normed states, keys and values
 * from the states themselves).
 * tfjs-layers has no attention layer, hence this one.
 */
export class CausalSelfAttention extends tf.layers.Layer {
  static className = 'SeqrecCausalSelfAttention';
  readonly dim: number;
  readonly heads: number;
  readonly rate: number;
  readonly init: WeightInit;
  readonly seed: number | undefined;
  private w: Record<'q' | 'k' | 'v' | 'o', { kernel: LayerVariable; bias: LayerVariable }> | null = null;

  constructor(args: CausalSelfAttentionArgs) {
    super(args);
    assertPositiveInt('CausalSelfAttention', 'dim', args.dim);
    assertPositiveInt('CausalSelfAttention', 'heads', args.heads);
    if (args.dim % args.heads !== 0) {
      throw new RangeError(`CausalSelfAttention: heads (${args.heads}) must divide dim (${args.dim})`);
    }
    const rate = args.dropout ?? 0;
    assertRate('CausalSelfAttention', 'dropout', rate);
    const init = args.init ?? 'glorot';
    assertInit('CausalSelfAttention', init);
    this.dim = args.dim;
    this.heads = args.heads;
    this.rate = rate;
    this.init = init;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = shapeList(inputShape);
    const ms = shapes[shapes.length - 1];
    const xs = shapes.slice(0, -1);
    if (
      (xs.length !== 1 && xs.length !== 2) ||
      !ms ||
      ms.length !== 2 ||
      xs.some((s) => s.length !== 3 || !dimsMatch(s[2], this.dim) || !dimsMatch(s[1], ms[1]))
    ) {
      throw new Error(
        `CausalSelfAttention ${this.name}: expected [x [B, L, ${this.dim}], mask [B, L]] or [q, x, mask], got ${shapes.map((s) => fmtShape(s)).join(', ')}`,
      );
    }
    const d = this.dim;
    const mk = (p: string, k: number) => ({
      kernel: this.addWeight(`${p}_kernel`, [d, d], 'float32', p === 'output' ? initializer(this.init, this.seed, k) : glorot(this.seed, k)),
      bias: this.addWeight(`${p}_bias`, [d], 'float32', tf.initializers.zeros()),
    });
    this.w = { q: mk('query', 0), k: mk('key', 1), v: mk('value', 2), o: mk('output', 3) };
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0]!;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const list = inputList(this.name, inputs, Array.isArray(inputs) && inputs.length === 3 ? 3 : 2);
      const mask = list[list.length - 1]!;
      const x = list[list.length - 2]!;
      const qIn = list[0]!;
      for (const t of list.slice(0, -1)) {
        if (t.rank !== 3 || t.shape[2] !== this.dim || mask.rank !== 2 || t.shape[0] !== mask.shape[0] || t.shape[1] !== mask.shape[1]) {
          throw new Error(
            `CausalSelfAttention ${this.name}: input ${fmtShape(t.shape)} and mask ${fmtShape(mask.shape)} do not fit [B, L, ${this.dim}] / [B, L]`,
          );
        }
      }
      const [b, l] = x.shape as [number, number, number];
      const h = this.heads;
      const dk = this.dim / h;
      const w = this.w!;
      // [B, L, d] → [B*h, L, dk]
      const split = (t: Tensor) =>
        h === 1 ? t : tf.reshape(tf.transpose(tf.reshape(t, [b, l, h, dk]), [0, 2, 1, 3]), [b * h, l, dk]);
      const q = split(dense(qIn, w.q.kernel.read(), w.q.bias.read()));
      const k = split(dense(x, w.k.kernel.read(), w.k.bias.read()));
      const v = split(dense(x, w.v.kernel.read(), w.v.bias.read()));
      let scores = tf.mul(mm(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(dk)); // [B*h, L, L]
      // allowed(i, j) = j <= i and mask[j]; additive bias 0 / MASKED, [B, 1, L, L]
      const causal = tf.linalg.bandPart(tf.ones([l, l]), -1, 0);
      const allowed = tf.mul(causal, tf.reshape(mask, [b, 1, 1, l]));
      const bias = tf.mul(tf.sub(1, allowed), MASKED);
      scores = tf.reshape(tf.add(tf.reshape(scores, [b, h, l, l]), bias), [b * h, l, l]);
      const attn = dropout(tf.softmax(scores), this.rate, isTraining(kwargs));
      let out = mm(attn, v); // [B*h, L, dk]
      if (h > 1) out = tf.reshape(tf.transpose(tf.reshape(out, [b, h, l, dk]), [0, 2, 1, 3]), [b, l, this.dim]);
      return dense(out, w.o.kernel.read(), w.o.bias.read());
    });
  }

  override getConfig() {
    return {
      ...super.getConfig(),
      dim: this.dim,
      heads: this.heads,
      dropout: this.rate,
      ...(this.init === 'glorot' ? {} : { init: this.init }),
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}
tf.serialization.registerClass(CausalSelfAttention);

export interface FeedForwardArgs extends LayerArgs {
  /** Input and output width d. */
  dim: number;
  /** Inner width; default `dim` (as in SASRec). */
  innerDim?: number;
  /** Dropout after the activation and after the output projection, while training. */
  dropout?: number;
  /** Initialiser of the kernels (default `glorot`). */
  init?: WeightInit;
  /** Initialiser seed. */
  seed?: number;
}

/** Point-wise feed-forward: `dropout(W2 · dropout(relu(W1 · x + b1)) + b2)` at every position. */
export class FeedForward extends tf.layers.Layer {
  static className = 'SeqrecFeedForward';
  readonly dim: number;
  readonly innerDim: number;
  readonly rate: number;
  readonly init: WeightInit;
  readonly seed: number | undefined;
  private w: LayerVariable[] = [];

  constructor(args: FeedForwardArgs) {
    super(args);
    assertPositiveInt('FeedForward', 'dim', args.dim);
    const inner = args.innerDim ?? args.dim;
    assertPositiveInt('FeedForward', 'innerDim', inner);
    const rate = args.dropout ?? 0;
    assertRate('FeedForward', 'dropout', rate);
    const init = args.init ?? 'glorot';
    assertInit('FeedForward', init);
    this.dim = args.dim;
    this.innerDim = inner;
    this.rate = rate;
    this.init = init;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = shapeList(inputShape)[0]!;
    if (!dimsMatch(s[s.length - 1], this.dim)) {
      throw new Error(`FeedForward ${this.name}: input ${fmtShape(s)} does not match width ${fmtShape([null, null, this.dim])}`);
    }
    this.w = [
      this.addWeight('kernel1', [this.dim, this.innerDim], 'float32', initializer(this.init, this.seed, 0)),
      this.addWeight('bias1', [this.innerDim], 'float32', tf.initializers.zeros()),
      this.addWeight('kernel2', [this.innerDim, this.dim], 'float32', initializer(this.init, this.seed, 1)),
      this.addWeight('bias2', [this.dim], 'float32', tf.initializers.zeros()),
    ];
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0]!;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const [x] = inputList(this.name, inputs, 1) as [Tensor];
      const training = isTraining(kwargs);
      const [k1, b1, k2, b2] = this.w.map((v) => v.read()) as [Tensor, Tensor, Tensor, Tensor];
      const hidden = dropout(relu(dense(x, k1, b1)), this.rate, training);
      return dropout(dense(hidden, k2, b2), this.rate, training);
    });
  }

  override getConfig() {
    return {
      ...super.getConfig(),
      dim: this.dim,
      innerDim: this.innerDim,
      dropout: this.rate,
      ...(this.init === 'glorot' ? {} : { init: this.init }),
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}
tf.serialization.registerClass(FeedForward);
