import { ExactTopK, loadWat } from '@seqrec/model';
import type { Tensor2D } from '@tensorflow/tfjs';

/**
 * Nearest items by cosine over an item table [N + 1, d] (row 0 is padding): exact top-k over the
 * normalised rows with the int8-bounded scan (ExactTopK), per request, with no TF kernel and no
 * batch. The normalised rows (in JS) and their int8 copy are made once, on first use; call
 * {@link dispose} when the model goes.
 */
export class ItemSimilarity {
  private exact: ExactTopK | null = null;

  constructor(private readonly table: () => Tensor2D) {}

  /** The `k` items most similar to `index`, best first; padding and the item itself excluded. */
  async similar(index: number, k: number): Promise<{ items: Int32Array; scores: Float32Array }> {
    const exact = await this.normalised();
    if (!Number.isInteger(index) || index < 1 || index >= exact.count) throw new RangeError(`no item ${index} in a table of ${exact.count - 1} items`);
    return exact.topK(exact.row(index), k, [index]);
  }

  /** The `k` items most similar to a vector in the table's space (an item the table does not hold), best first; padding excluded. */
  async similarTo(vector: Float32Array, k: number): Promise<{ items: Int32Array; scores: Float32Array }> {
    const exact = await this.normalised();
    let nn = 0;
    for (let j = 0; j < vector.length; j++) nn += vector[j]! * vector[j]!;
    const inv = 1 / (Math.sqrt(nn) + 1e-12);
    return exact.topK(Float32Array.from(vector, (v) => v * inv), k);
  }

  private async normalised(): Promise<ExactTopK> {
    if (!this.exact) {
      await loadWat();
      const table = this.table();
      const [n, d] = table.shape;
      const rows = Float32Array.from(table.dataSync() as Float32Array);
      for (let i = 0; i < n; i++) {
        let nn = 0;
        for (let j = 0; j < d; j++) nn += rows[i * d + j]! * rows[i * d + j]!;
        const inv = 1 / (Math.sqrt(nn) + 1e-12);
        for (let j = 0; j < d; j++) rows[i * d + j]! *= inv;
      }
      this.exact = new ExactTopK(rows, n, d, 1);
    }
    return this.exact;
  }

  dispose(): void {
    this.exact = null;
  }
}
