/**
 * The model version the embedding service encodes with, reference-counted so a reload never
 * disposes a model that a batch or a request is still using.
 */
import type { ServingArtifact } from '@seqrec/artifacts';
import { tf } from '@seqrec/model';
import type { Tensor2D } from '@tensorflow/tfjs';

export class EmbeddingModel {
  readonly name: string;
  readonly version: string;
  readonly createdAt: number;
  private refs = 0;
  private retired = false;
  private disposedFlag = false;
  private normRows: Tensor2D | null = null;
  private normT: Tensor2D | null = null;

  constructor(readonly artifact: ServingArtifact) {
    this.name = artifact.manifest.model;
    this.version = artifact.manifest.version;
    const t = Date.parse(artifact.manifest.createdAt);
    this.createdAt = Number.isFinite(t) ? t : Date.now();
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
  async similar(index: number, k: number): Promise<{ items: Int32Array; scores: Float32Array }> {
    if (!this.normRows) {
      const table = this.artifact.encoder.itemTable();
      this.normRows = tf.tidy(() => tf.div(table, tf.add(tf.norm(table, 'euclidean', 1, true), 1e-12)) as Tensor2D);
      this.normT = tf.tidy(() => tf.transpose(this.normRows!) as Tensor2D);
    }
    const kk = Math.min(this.artifact.vocabulary.length, k + 2);
    const top = tf.tidy(() => tf.topk(tf.matMul(tf.gather(this.normRows!, tf.tensor1d([index], 'int32')), this.normT!), kk, true));
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
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.normRows?.dispose();
    this.normT?.dispose();
    this.artifact.encoder.dispose();
  }
}
