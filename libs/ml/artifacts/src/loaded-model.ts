import type { SequenceEncoder } from '@seqrec/model';
import type { ServingArtifact } from './artifacts';
import type { GraphScorer } from './graph-scorer';
import { ItemSimilarity } from './item-similarity';

/**
 * A loaded model version shared by concurrent work (requests, batches), reference-counted so a
 * reload never disposes a model still in use: `acquire` / `release` around each use, `retire` when
 * a newer version takes over; the tensors go when the last user releases a retired model.
 * Subclasses add their own caches and release them in {@link disposeCaches}.
 */
export class LoadedModel {
  readonly name: string;
  readonly version: string;
  /** Epoch ms the artifact was created (load time when the manifest has none). */
  readonly createdAt: number;
  private refs = 0;
  private retired = false;
  private disposedFlag = false;
  /** Cosine over the item table (encoder models; graph models answer from their neighbour lists). */
  private readonly similarity: ItemSimilarity | null;

  constructor(readonly artifact: ServingArtifact) {
    this.name = artifact.manifest.model;
    this.version = artifact.manifest.version;
    const t = Date.parse(artifact.manifest.createdAt);
    this.createdAt = Number.isFinite(t) ? t : Date.now();
    const encoder = artifact.encoder;
    this.similarity = encoder ? new ItemSimilarity(() => encoder.itemTable()) : null;
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** Uses in flight. */
  get inUse(): number {
    return this.refs;
  }

  acquire(): this {
    if (this.disposedFlag) throw new Error(`model ${this.name}@${this.version} is disposed`);
    this.refs++;
    return this;
  }

  release(): void {
    this.refs--;
    if (this.retired && this.refs === 0) this.dispose();
  }

  /** Nothing new will use this model: dispose it as soon as the last user releases it. */
  retire(): void {
    this.retired = true;
    if (this.refs === 0) this.dispose();
  }

  /** Model index of an external item id (0 when the model does not know it). */
  indexOf(itemId: string): number {
    return this.artifact.index.get(itemId) ?? 0;
  }

  /**
   * Items most similar to `index`, the item itself excluded: cosine over the item table for
   * encoder models; a graph model's strongest neighbours (item-KNN: most similar items;
   * co-occurrence: the items most likely to come next; popularity: none).
   */
  similar(index: number, k: number): Promise<{ items: Int32Array; scores: Float32Array }> {
    if (this.artifact.kind === 'graph') return Promise.resolve(this.artifact.graph.similar(index, k));
    return this.similarity!.similar(index, k);
  }

  /** Items most similar (cosine over the item table) to a vector in the table's space; encoder models only. */
  similarTo(vector: Float32Array, k: number): Promise<{ items: Int32Array; scores: Float32Array }> {
    if (!this.similarity) throw new Error(`${this.name}@${this.version} is a graph model: it has no item table`);
    return this.similarity.similarTo(vector, k);
  }

  /** The TF.js encoder of an encoder model; throws for a graph model (callers branch on {@link graph} first). */
  get encoder(): SequenceEncoder {
    if (this.artifact.kind !== 'encoder') throw new Error(`${this.name}@${this.version} is a graph model: it has no encoder`);
    return this.artifact.encoder;
  }

  /** The item graph of a neighbourhood model (item-KNN, co-occurrence, popularity); null for encoder models. */
  get graph(): GraphScorer | null {
    return this.artifact.kind === 'graph' ? this.artifact.graph : null;
  }

  /** Releases the encoder's and the caches' tensors. Idempotent. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.similarity?.dispose();
    this.disposeCaches();
    this.artifact.encoder?.dispose();
    this.onDispose();
  }

  /** Subclass hook: release cached tensors. */
  protected disposeCaches(): void {}

  /** Subclass hook: called once, after the tensors are gone. */
  protected onDispose(): void {}
}
