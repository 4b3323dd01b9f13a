import { tf } from '@seqrec/model';
import type { Tensor2D } from '@tensorflow/tfjs';

/**
 * Nearest items by cosine over an item table [N + 1, d] (row 0 is padding). The normalised table
 * and its transpose are computed once, on first use; call {@link dispose} when the model goes.
 */
export class ItemSimilarity {
  private rows: Tensor2D | null = null;
  private transposed: Tensor2D | null = null;

  constructor(private readonly table: () => Tensor2D) {}

  /** The `k` items most similar to `index`, best first; padding and the item itself excluded. */
  async similar(index: number, k: number): Promise<{ items: Int32Array; scores: Float32Array }> {
    if (!this.rows) {
      const table = this.table();
      this.rows = tf.tidy(() => tf.div(table, tf.add(tf.norm(table, 'euclidean', 1, true), 1e-12)) as Tensor2D);
      this.transposed = tf.tidy(() => tf.transpose(this.rows!) as Tensor2D);
    }
    const kk = Math.min(this.rows.shape[0], k + 2);
    const top = tf.tidy(() => tf.topk(tf.matMul(tf.gather(this.rows!, tf.tensor1d([index], 'int32')), this.transposed!), kk, true));
    const [vals, idx] = await Promise.all([top.values.data(), top.indices.data()]);
    top.values.dispose();
    top.indices.dispose();
    const items: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < idx.length && items.length < k; i++) {
      if (idx[i] === 0 || idx[i] === index) continue;
      items.push(idx[i]!);
      scores.push(vals[i]!);
    }
    return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
  }

  dispose(): void {
    this.rows?.dispose();
    this.transposed?.dispose();
    this.rows = null;
    this.transposed = null;
  }
}
