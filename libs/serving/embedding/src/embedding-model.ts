/**
 * The model version the embedding service encodes with, reference-counted so a reload never
 * disposes a model that a batch or a request is still using.
 */
import { LoadedModel } from '@seqrec/artifacts';
import { tf, userVectors } from '@seqrec/model';

export class EmbeddingModel extends LoadedModel {
  /** User vectors [B, d] of histories of model indices (each non-empty). */
  encode(histories: Int32Array[], types: Uint8Array[]): Promise<Float32Array[]> {
    return userVectors(this.encoder, histories, types);
  }

  /** The item's row of the scoring item table. */
  async itemVector(index: number): Promise<Float32Array> {
    const row = tf.tidy(() => tf.gather(this.encoder.itemTable(), tf.tensor1d([index], 'int32')));
    const data = (await row.data()) as Float32Array;
    row.dispose();
    return data;
  }
}
