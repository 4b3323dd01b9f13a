/**
 * The model version the embedding service encodes with, reference-counted so a reload never
 * disposes a model that a batch or a request is still using.
 */
import { LoadedModel } from '@seqrec/artifacts';
import { inlineEncoderFor, tf, userVectors, type InlineEncoder } from '@seqrec/model';

export class EmbeddingModel extends LoadedModel {
  /** The WebAssembly SIMD encoder (lazy; null for item2vec, which has none). */
  private inline: InlineEncoder | null | undefined;

  /**
   * User vectors [B, d] of histories of model indices (each non-empty): one window at a time in
   * WebAssembly SIMD for the models that have an inline encoder (SASRec, GRU4Rec, LSTM), else one
   * TF pass for the batch (item2vec).
   */
  encode(histories: Int32Array[], types: Uint8Array[]): Promise<Float32Array[]> {
    this.inline ??= inlineEncoderFor(this.encoder);
    const inline = this.inline;
    if (!inline) return userVectors(this.encoder, histories, types);
    const withTypes = this.encoder.config.numTypes > 0;
    return Promise.resolve(histories.map((h, i) => inline.encode(h, withTypes ? types[i] : undefined)));
  }

  /** The item's row of the scoring item table. */
  async itemVector(index: number): Promise<Float32Array> {
    const row = tf.tidy(() => tf.gather(this.encoder.itemTable(), tf.tensor1d([index], 'int32')));
    const data = (await row.data()) as Float32Array;
    row.dispose();
    return data;
  }

  protected override disposeCaches(): void {
    this.inline = null;
  }
}
