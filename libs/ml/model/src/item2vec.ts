/**
 * item2vec training: skip-gram with negative sampling (word2vec SGNS) over item sequences.
 * The centre ("input") vectors are the model's item table; the context ("output") vectors are a
 * training-only variable, dropped afterwards. Pairs come from a dynamic window (each centre draws
 * its window from 1..window), frequent items are subsampled, negatives come from unigram^0.75.
 */
import type { Scalar, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs';
import type { Item2VecConfig } from './config';
import { bceWithNegatives } from './ops';
import type { Rng } from '@seqrec/random';
import { tf } from './tf';

/** Sampling tables built once per training run. */
export interface SkipGramTables {
  /** Probability of keeping each item when subsampling (1 when disabled). */
  keep: Float32Array;
  /** Items repeated in proportion to count^0.75, for O(1) negative draws. */
  unigram: Int32Array;
}

export function buildSkipGramTables(train: readonly Int32Array[], numItems: number, subsample: number): SkipGramTables {
  const counts = new Float64Array(numItems + 1);
  let total = 0;
  for (const s of train) {
    for (const it of s) {
      counts[it]! += 1;
      total++;
    }
  }
  const keep = new Float32Array(numItems + 1).fill(1);
  if (subsample > 0) {
    const t = subsample * total;
    for (let i = 1; i <= numItems; i++) {
      const c = counts[i]!;
      if (c > 0) keep[i] = Math.min(1, (Math.sqrt(c / t) + 1) * (t / c));
    }
  }
  let z = 0;
  for (let i = 1; i <= numItems; i++) z += Math.pow(counts[i]!, 0.75);
  const size = Math.min(2_000_000, Math.max(100_000, 20 * numItems));
  const unigram = new Int32Array(size);
  if (z === 0) {
    for (let j = 0; j < size; j++) unigram[j] = 1 + (j % numItems);
  } else {
    let i = 1;
    let acc = Math.pow(counts[1]!, 0.75) / z;
    for (let j = 0; j < size; j++) {
      unigram[j] = i;
      if ((j + 1) / size > acc && i < numItems) {
        i++;
        acc += Math.pow(counts[i]!, 0.75) / z;
      }
    }
  }
  return { keep, unigram };
}

/** (centre, context) pairs of one sequence, appended to `out`. */
export function skipGramPairs(
  seq: Int32Array,
  cfg: Pick<Item2VecConfig, 'window'>,
  tables: SkipGramTables,
  rng: Rng,
  out: { centres: number[]; contexts: number[] },
): void {
  const kept: number[] = [];
  for (const it of seq) if (it > 0 && rng.float() < tables.keep[it]!) kept.push(it);
  for (let i = 0; i < kept.length; i++) {
    const b = rng.between(1, cfg.window);
    const lo = Math.max(0, i - b);
    const hi = Math.min(kept.length - 1, i + b);
    for (let j = lo; j <= hi; j++) {
      if (j === i) continue;
      out.centres.push(kept[i]!);
      out.contexts.push(kept[j]!);
    }
  }
}

/** One SGNS step on a batch of pairs; returns the loss tensor (caller disposes). */
export function skipGramStep(
  optimizer: { minimize(f: () => Scalar, returnCost: boolean, varList: Variable[]): Scalar | null },
  inputTable: Variable,
  outputTable: Variable,
  centres: Int32Array,
  contexts: Int32Array,
  negatives: Int32Array,
  k: number,
): Scalar {
  const p = centres.length;
  const c = tf.tensor1d(centres, 'int32');
  const x = tf.tensor1d(contexts, 'int32');
  const n = tf.tensor2d(negatives, [p, k], 'int32');
  const cost = optimizer.minimize(
    () => {
      const u = tf.gather(inputTable, c) as Tensor2D; // [P, d]
      const pos = tf.sum(tf.mul(u, tf.gather(outputTable, x)), 1) as Tensor1D;
      const neg = tf.sum(tf.mul(tf.gather(outputTable, n), tf.expandDims(u, 1)), 2) as Tensor2D;
      return bceWithNegatives(pos, neg);
    },
    true,
    [inputTable, outputTable],
  );
  c.dispose();
  x.dispose();
  n.dispose();
  return cost!;
}
