/**
 * The model version the embedding service encodes with, reference-counted so a reload never
 * disposes a model that a batch or a request is still using.
 */
import { ItemSimilarity, type ServingArtifact } from '@seqrec/artifacts';
import { tf } from '@seqrec/model';

export class EmbeddingModel {
  readonly name: string;
  readonly version: string;
  readonly createdAt: number;
  private refs = 0;
  private retired = false;
  private disposedFlag = false;
  private readonly similarity: ItemSimilarity;

  constructor(readonly artifact: ServingArtifact) {
    this.name = artifact.manifest.model;
    this.version = artifact.manifest.version;
    const t = Date.parse(artifact.manifest.createdAt);
    this.createdAt = Number.isFinite(t) ? t : Date.now();
    this.similarity = new ItemSimilarity(() => artifact.encoder.itemTable());
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  acquire(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0 && this.retired) this.dispose();
  }

  retire(): void {
    this.retired = true;
    if (this.refs === 0) this.dispose();
  }

  indexOf(itemId: string): number {
    return this.artifact.index.get(itemId) ?? 0;
  }

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

  /** Most similar items by cosine of item vectors, the item itself excluded. */
  similar(index: number, k: number): Promise<{ items: Int32Array; scores: Float32Array }> {
    return this.similarity.similar(index, k);
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.similarity.dispose();
    this.artifact.encoder.dispose();
  }
}
