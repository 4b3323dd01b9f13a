/**
 * Tensor ops shared by the layers and the losses, written to avoid the slow paths measured in
 * TFJS-NOTES.md:
 * - {@link mm}: a matmul with its shapes checked (both printed on a mismatch);
 * - {@link layerNorm}: a `customGrad` with its gradient written out (`tf.layers.layerNormalization`'s
 *   goes through `tile`'s gradient, one slice-and-add per repetition);
 * - {@link softmaxCrossEntropy}: a `customGrad` whose gradient is the softmax, instead of the
 *   gradient of `logSumExp`.
 * All functions expect to be called inside `tf.tidy` (or a gradient function) and do not dispose
 * their inputs.
 */
import type { GradSaveFunc, Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { Rng } from '@seqrec/random';
import { tf } from './tf';

function shapeStr(t: { shape: number[] }): string {
  return `[${t.shape.join(', ')}]`;
}

/** `a @ b` for rank-2 or equal-rank-3 inputs (no transpose flags; transpose the input first), shapes checked. */
export function mm(a: Tensor, b: Tensor): Tensor {
  const ok =
    a.rank === b.rank &&
    (a.rank === 2 || (a.rank === 3 && a.shape[0] === b.shape[0])) &&
    a.shape[a.rank - 1] === b.shape[b.rank - 2];
  if (!ok) throw new Error(`mm: cannot multiply ${shapeStr(a)} by ${shapeStr(b)}`);
  return tf.matMul(a as Tensor2D, b as Tensor2D);
}

/** `x [..., dIn] @ w [dIn, dOut] + bias [dOut]` for any rank of `x`. */
export function dense(x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const dIn = w.shape[0];
  if (x.shape[x.rank - 1] !== dIn) {
    throw new Error(`dense: input ${shapeStr(x)} does not match kernel ${shapeStr(w)}`);
  }
  const flat = x.rank === 2 ? x : tf.reshape(x, [-1, dIn]);
  let y = mm(flat, w);
  if (bias) y = tf.add(y, bias);
  return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), w.shape[1]!]);
}

const layerNormByEps = new Map<number, (x: Tensor, gamma: Tensor, beta: Tensor) => Tensor>();

function layerNormOp(eps: number): (x: Tensor, gamma: Tensor, beta: Tensor) => Tensor {
  let op = layerNormByEps.get(eps);
  if (op) return op;
  op = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [x, gamma, beta, save] = args as [Tensor, Tensor, Tensor, GradSaveFunc];
    const xc = tf.sub(x, tf.mean(x, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps));
    const xhat = tf.mul(xc, rstd);
    save([xhat, rstd, gamma]);
    return {
      value: tf.add(tf.mul(xhat, gamma), beta),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sr, sg] = saved as [Tensor, Tensor, Tensor];
        const outer = Array.from({ length: dy.rank - 1 }, (_, i) => i);
        const gy = tf.mul(dy, sg);
        // dx = rstd · (gy − mean(gy) − x̂ · mean(gy · x̂)), over the last axis
        const dx = tf.mul(tf.sub(tf.sub(gy, tf.mean(gy, -1, true)), tf.mul(sx, tf.mean(tf.mul(gy, sx), -1, true))), sr);
        return [dx, tf.sum(tf.mul(dy, sx), outer), tf.sum(dy, outer)];
      },
    };
  }) as unknown as (x: Tensor, gamma: Tensor, beta: Tensor) => Tensor;
  layerNormByEps.set(eps, op);
  return op;
}

/**
 * Layer normalisation over the last axis: `(x - mean) / sqrt(var + eps) * gamma + beta`, with its
 * gradient written out (`tf.layers.layerNormalization`'s goes through `tile`'s gradient, one
 * slice-and-add per repetition; autodiff of the elementwise form took 29 ms forward and backward
 * for a [128, 200, 50] input on the native backend, this 16 ms).
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  const d = x.shape[x.rank - 1];
  if (gamma.shape.length !== 1 || gamma.shape[0] !== d || beta.shape[0] !== d) {
    throw new Error(`layerNorm: input ${shapeStr(x)} does not match gamma ${shapeStr(gamma)} / beta ${shapeStr(beta)}`);
  }
  return layerNormOp(eps)(x, gamma, beta);
}

/**
 * Inverted-dropout mask: each entry is 0 with probability `rate` (quantised to 1/65536) and
 * 1 / (1 - rate) otherwise. xorshift32, two entries per draw: ~3 ns per entry, where
 * `tf.dropout`'s `randomUniform` (JavaScript on every backend) took ~15% of a SASRec step on the
 * native backend.
 */
export function dropoutMask(n: number, rate: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  const threshold = Math.round(rate * 65536);
  const keep = 65536 / (65536 - threshold);
  let x = seed >>> 0 || 0x2545f491;
  for (let i = 0; i < n; i += 2) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x & 0xffff) >= threshold ? keep : 0;
    if (i + 1 < n) out[i + 1] = x >>> 16 >= threshold ? keep : 0;
  }
  return out;
}

let dropoutRng = new Rng(1234);

/**
 * Seeds the generator that hands a fresh seed to every dropout op. TF.js dropout with a fixed
 * seed would draw the same mask at every step, and without one it is not reproducible; the
 * trainer calls this once per run.
 */
export function seedDropout(seed: number): void {
  dropoutRng = new Rng(seed);
}

/** The next dropout seed (see {@link seedDropout}). */
export function nextDropoutSeed(): number {
  return dropoutRng.seed();
}

/** What {@link nativeUniform} needs of tfjs-node's backend: TensorFlow's raw ops by name. */
interface NativeOps {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: Array<{ name: string; type: number; value: number }>, inputs: Tensor[]): Tensor;
}

function nativeOps(): NativeOps | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  const b = tf.backend() as unknown as Partial<NativeOps>;
  return typeof b.executeSingleOutput === 'function' && b.binding ? (b as NativeOps) : null;
}

/** A type attribute (`T`, `dtype`, ...) of a raw op: `float32` or `int32`. */
function typeAttr(ops: NativeOps, name: string, dtype: 'float32' | 'int32') {
  return { name, type: ops.binding.TF_ATTR_TYPE, value: dtype === 'float32' ? ops.binding.TF_FLOAT : ops.binding.TF_INT32 };
}

/**
 * Uniform [0, 1) floats of `shape` from TensorFlow's `StatelessRandomUniform` (Philox, seeded, on
 * the native backend's threads); null on other backends. No gradient (dropout masks need none).
 */
export function nativeUniform(shape: number[], seed: number): Tensor | null {
  const ops = nativeOps();
  if (!ops) return null;
  const dims = tf.tensor1d(shape, 'int32');
  const seeds = tf.tensor1d([seed | 0, 0x5eed], 'int32');
  try {
    return ops.executeSingleOutput(
      'StatelessRandomUniform',
      [typeAttr(ops, 'dtype', 'float32'), typeAttr(ops, 'T', 'int32'), typeAttr(ops, 'Tseed', 'int32')],
      [dims, seeds],
    );
  } finally {
    tf.dispose([dims, seeds]);
  }
}

const reluOp = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
  const [x, save] = args as [Tensor, GradSaveFunc];
  const y = tf.relu(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [sy] = saved as [Tensor];
      const ops = nativeOps();
      if (!ops) return tf.mul(dy, tf.step(sy));
      return ops.executeSingleOutput('ReluGrad', [typeAttr(ops, 'T', 'float32')], [dy, sy]);
    },
  };
}) as unknown as (x: Tensor) => Tensor;

/**
 * `max(x, 0)`, whose gradient on the native backend is TensorFlow's own `ReluGrad` (one pass):
 * tfjs-node's gradient of `tf.relu` goes through its `Step` kernel, six passes (NaN test, compare,
 * ones, fill, where, select): 6.8 ms against 0.6 ms for [25600, 50].
 */
export function relu(x: Tensor): Tensor {
  if (x.dtype !== 'float32') throw new Error(`relu: expected float32, got ${x.dtype}`);
  return reluOp(x);
}

/**
 * Inverted dropout with a seed from the run's dropout generator; identity when not training. On
 * the native backend the mask is drawn by TensorFlow itself: a JavaScript mask of a SASRec
 * attention matrix ([128, 200, 200]) took 25 ms to draw and 15 ms to hand over, against 19 ms for
 * the whole native dropout (TFJS-NOTES.md's 15% of a step was this).
 */
export function dropout(x: Tensor, rate: number, training: boolean): Tensor {
  if (!training || rate <= 0) return x;
  const seed = nextDropoutSeed();
  const u = nativeUniform(x.shape, seed);
  if (!u) return tf.mul(x, tf.tensor(dropoutMask(x.size, rate, seed), x.shape, 'float32'));
  // floor(u + 1 - rate) is 1 with probability 1 - rate, else 0
  return tf.mul(x, tf.mul(tf.floor(tf.add(u, 1 - rate)), 1 / (1 - rate)));
}

const softmaxCE = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
  const [logits, labels, save] = args as [Tensor, Tensor, GradSaveFunc];
  const [m, n] = logits.shape as [number, number];
  const lse = tf.logSumExp(logits, 1);
  const flatIdx = tf.add(tf.mul(tf.range(0, m, 1, 'int32'), tf.scalar(n, 'int32')), labels);
  const picked = tf.gather(tf.reshape(logits, [-1]), flatIdx);
  save([logits, labels]);
  return {
    value: tf.mean(tf.sub(lse, picked)),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [sl, lab] = saved as [Tensor2D, Tensor1D];
      const g = tf.sub(tf.softmax(sl), tf.oneHot(lab, n));
      return [tf.mul(g, tf.div(dy, m)), tf.zerosLike(lab)];
    },
  };
});

/**
 * Mean softmax cross-entropy of integer `labels [M]` under `logits [M, C]`. Its gradient is
 * `(softmax(logits) - onehot) / M`, given directly (cheaper than differentiating
 * `logSumExp`).
 */
export function softmaxCrossEntropy(logits: Tensor2D, labels: Tensor1D): Scalar {
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`softmaxCrossEntropy: logits ${shapeStr(logits)} and labels ${shapeStr(labels)} do not match`);
  }
  if (labels.dtype !== 'int32') throw new Error(`softmaxCrossEntropy: labels must be int32, got ${labels.dtype}`);
  return softmaxCE(logits, labels) as Scalar;
}

const fullSoftmax = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
  const [h, table, labels, save] = args as [Tensor2D, Tensor2D, Tensor1D, GradSaveFunc];
  const [m] = h.shape;
  const n = table.shape[0];
  const p = tf.softmax(tf.matMul(h, table, false, true)); // [M, N]
  const flatIdx = tf.add(tf.mul(tf.range(0, m, 1, 'int32'), tf.scalar(n, 'int32')), labels);
  const picked = tf.gather(tf.reshape(p, [-1]), flatIdx);
  save([h, table, labels, p]);
  return {
    value: tf.neg(tf.mean(tf.log(tf.add(picked, 1e-30)))),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [sh, st, sl, sp] = saved as [Tensor2D, Tensor2D, Tensor1D, Tensor2D];
      const scale = tf.div(dy, m);
      // (p - onehot) @ table and hᵀ @ (p - onehot), without materialising the one-hot matrix.
      const dh = tf.mul(tf.sub(tf.matMul(sp, st), tf.gather(st, sl)), scale);
      const pTh = tf.matMul(sp, sh, true, false); // [N, d]
      const dTable = tf.mul(tf.sub(pTh, tf.unsortedSegmentSum(sh, sl, n)), scale);
      return [dh, dTable, tf.zerosLike(sl)];
    },
  };
});

/**
 * Full-softmax cross-entropy of `h [M, d]` against every row of `table [N, d]`, labels in 0..N-1
 * (mean over rows). Fused: the backward pass needs only the saved softmax and two untransposed
 * matmuls, never a one-hot or a scaled copy of the [M, N] matrix.
 */
export function fullSoftmaxCrossEntropy(h: Tensor2D, table: Tensor2D, labels: Tensor1D): Scalar {
  if (h.rank !== 2 || table.rank !== 2 || h.shape[1] !== table.shape[1] || labels.shape[0] !== h.shape[0]) {
    throw new Error(
      `fullSoftmaxCrossEntropy: h ${shapeStr(h)}, table ${shapeStr(table)} and labels ${shapeStr(labels)} do not match`,
    );
  }
  if (labels.dtype !== 'int32') throw new Error(`fullSoftmaxCrossEntropy: labels must be int32, got ${labels.dtype}`);
  return fullSoftmax(h, table, labels) as Scalar;
}

/** Mean of `softplus(-pos) + sum_k softplus(neg_k)`: binary cross-entropy of logits, positives vs sampled negatives. */
export function bceWithNegatives(pos: Tensor1D, neg: Tensor2D): Scalar {
  if (neg.shape[0] !== pos.shape[0]) {
    throw new Error(`bceWithNegatives: positives ${shapeStr(pos)} and negatives ${shapeStr(neg)} do not match`);
  }
  return tf.mean(tf.add(tf.softplus(tf.neg(pos)), tf.sum(tf.softplus(neg), 1)));
}
