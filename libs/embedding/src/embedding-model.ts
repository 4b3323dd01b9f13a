/**
 * The model version the embedding service encodes with, reference-counted so a reload never
 * disposes a model that a batch or a request is still using.
 */
import { LoadedModel } from '@seqrec/artifacts';
import { tf } from '@seqrec/model';

export class EmbeddingModel extends LoadedModel {
  /** User vectors [B, d] of histories of model indices (each non-empty). */
  async encode(histories: Int32Array[], types: Uint8Array[]): Promise<Float32Array[]> {
    const enc = this.artifact.encoder;
    const t = enc.encode(histories, enc.config.numTypes > 0 ? types : undefined);
    const data = (await t.data()) as Float32Array;
    t.dispose();
    const d = enc.config.dim;
    return histories.map((_, i) => data.slice(i * d, (i + 1) * d));
  }

  /** The item's row of the scoring item table. */
  async itemVector(index: number): Promise<Float32Array> {
    const row = tf.tidy(() => tf.gather(this.artifact.encoder.itemTable(), tf.tensor1d([index], 'int32')));
    const data = (await row.data()) as Float32Array;
    row.dispose();
    return data;
  }
}
