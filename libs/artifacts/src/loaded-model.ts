import type { ServingArtifact } from './artifacts';
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

  /** Items with the most similar vectors (cosine over the item table), the item itself excluded. */
  similar(index: number, k: number): Promise<{ items: Int32Array; scores: Float32Array }> {
    return this.similarity.similar(index, k);
  }

  /** Releases the encoder's and the caches' tensors. Idempotent. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.similarity.dispose();
    this.disposeCaches();
    this.artifact.encoder.dispose();
    this.onDispose();
  }

  /** Subclass hook: release cached tensors. */
  protected disposeCaches(): void {}

  /** Subclass hook: called once, after the tensors are gone. */
  protected onDispose(): void {}
}
