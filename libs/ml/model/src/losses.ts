/**
 * Next-item losses over hidden states h [M, d] (one row per position that has a target) and the
 * item table E [N + 1, d]:
 * - `softmax`: full softmax cross-entropy over items 1..N (best quality; cost ∝ N);
 * - `sampled-softmax`: softmax over the target and K negatives shared by the batch, drawn
 *   uniformly (accidental hits masked) — for catalogues too large for the full softmax;
 * - `bce`: SASRec's original binary cross-entropy, target vs `negatives` per position, drawn
 *   uniformly from items the user has not interacted with. Measured weaker (TFJS-NOTES.md).
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { bceWithNegatives, fullSoftmaxCrossEntropy, mm, softmaxCrossEntropy } from './ops';
import type { Rng } from '@seqrec/random';
import { tf } from './tf';

export type LossKind = 'softmax' | 'sampled-softmax' | 'bce';

export const LOSS_KINDS: readonly LossKind[] = ['softmax', 'sampled-softmax', 'bce'];

/** Negatives drawn in JavaScript for one batch. */
export interface Negatives {
  /** bce: [M, k] per-position negatives; sampled-softmax: [K] shared negatives. */
  ids: Int32Array;
  perRow: number;
}

/**
 * Draws the negatives a loss needs for one batch (none for `softmax`).
 * @param rowsOf for bce, the sequence each target position belongs to (to avoid its items).
 */
export function sampleNegatives(
  loss: LossKind,
  count: number,
  numItems: number,
  targets: Int32Array,
  rowsOf: (position: number) => Int32Array,
  rng: Rng,
): Negatives | null {
  if (loss === 'softmax') return null;
  if (loss === 'sampled-softmax') {
    const k = Math.min(count, numItems);
    const ids = new Int32Array(k);
    for (let i = 0; i < k; i++) ids[i] = rng.between(1, numItems);
    return { ids, perRow: k };
  }
  const m = targets.length;
  const ids = new Int32Array(m * count);
  const seen = new Uint8Array(numItems + 1);
  let lastSeq: Int32Array | null = null;
  for (let p = 0; p < m; p++) {
    const seq = rowsOf(p);
    if (seq !== lastSeq) {
      if (lastSeq) for (const it of lastSeq) seen[it] = 0;
      for (const it of seq) seen[it] = 1;
      lastSeq = seq;
    }
    for (let j = 0; j < count; j++) {
      let it = rng.between(1, numItems);
      // Rejection sampling; give up after a few tries for users who have seen most items.
      for (let tries = 0; (seen[it] === 1 || it === targets[p]) && tries < 20; tries++) it = rng.between(1, numItems);
      ids[p * count + j] = it;
    }
  }
  return { ids, perRow: count };
}

/**
 * The loss for hidden states `h [M, d]` with `targets [M]` (items 1..N). Call inside the
 * optimizer's loss function.
 */
export function nextItemLoss(
  loss: LossKind,
  h: Tensor2D,
  targets: Tensor1D,
  items: Tensor2D,
  negatives: Negatives | null,
): Scalar {
  const [m, d] = h.shape;
  const n = items.shape[0] - 1;
  switch (loss) {
    case 'softmax': {
      const real = tf.slice(items, [1, 0], [n, d]) as Tensor2D;
      return fullSoftmaxCrossEntropy(h, real, tf.sub(targets, tf.scalar(1, 'int32')) as Tensor1D);
    }
    case 'sampled-softmax': {
      if (!negatives) throw new Error('sampled-softmax needs negatives');
      const k = negatives.ids.length;
      const negIds = tf.tensor1d(negatives.ids, 'int32');
      const pos = tf.sum(tf.mul(h, tf.gather(items, targets)), 1, true); // [M, 1]
      let neg: Tensor = mm(h, tf.transpose(tf.gather(items, negIds))); // [M, K]
      const hits = tf.cast(tf.equal(tf.reshape(targets, [m, 1]), tf.reshape(negIds, [1, k])), 'float32');
      neg = tf.add(neg, tf.mul(hits, -1e9));
      return softmaxCrossEntropy(tf.concat([pos, neg], 1) as Tensor2D, tf.zeros([m], 'int32') as Tensor1D);
    }
    case 'bce': {
      if (!negatives) throw new Error('bce needs negatives');
      const k = negatives.perRow;
      const pos = tf.sum(tf.mul(h, tf.gather(items, targets)), 1) as Tensor1D;
      const negE = tf.gather(items, tf.tensor2d(negatives.ids, [m, k], 'int32')); // [M, k, d]
      const neg = tf.sum(tf.mul(negE, tf.expandDims(h, 1)), 2) as Tensor2D;
      return bceWithNegatives(pos, neg);
    }
  }
}
