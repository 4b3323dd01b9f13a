/**
 * The contract between the trainer (writes) and the embedding service and scorer (read): a servable
 * model artifact in the {@link ModelStore}, i.e. the TF.js sequence encoder (`model.json`,
 * `weights.bin`, `config.json`), the item vocabulary (`vocabulary.json`: external item id per model
 * index, index 0 = padding) and item popularity on the training data (`popularity.json`: count per
 * model index), the fallback for users with no usable history.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, saveModel, type SequenceEncoder } from '@seqrec/model';
import type { ArtifactManifest, ModelStore } from '@seqrec/model-store';

export interface ServingArtifact {
  manifest: ArtifactManifest;
  encoder: SequenceEncoder;
  /** External item id per model index; `vocabulary[0]` is '' (padding). */
  vocabulary: string[];
  /** Model index of an external item id. */
  index: ReadonlyMap<string, number>;
  /** Training-data count per model index. */
  popularity: Float32Array;
  /** Model indices by popularity, most popular first (padding excluded). */
  popularOrder: Int32Array;
}

export interface SaveArtifactInput {
  manifest: ArtifactManifest;
  encoder: SequenceEncoder;
  vocabulary: readonly string[];
  popularity: ArrayLike<number>;
  /** Extra files written next to the model (e.g. `report.html`, `metrics.json`). */
  extraFiles?: Record<string, string>;
}

export async function saveArtifact(store: ModelStore, input: SaveArtifactInput): Promise<string> {
  const n = input.encoder.config.numItems + 1;
  if (input.vocabulary.length !== n) throw new RangeError(`vocabulary has ${input.vocabulary.length} entries, the model ${n} (numItems + padding)`);
  if (input.popularity.length !== n) throw new RangeError(`popularity has ${input.popularity.length} entries, the model ${n}`);
  return store.publish(input.manifest, async (dir) => {
    await saveModel(input.encoder, dir, { model: input.manifest.model, version: input.manifest.version });
    await writeFile(join(dir, 'vocabulary.json'), JSON.stringify(input.vocabulary));
    await writeFile(join(dir, 'popularity.json'), JSON.stringify(Array.from(input.popularity)));
    for (const [name, content] of Object.entries(input.extraFiles ?? {})) await writeFile(join(dir, name), content);
  });
}

/** Loads a servable artifact; the caller owns `encoder` and disposes it when done. */
export async function loadArtifact(store: ModelStore, model: string, version: string): Promise<ServingArtifact> {
  const dir = store.location(model, version);
  const manifest = await store.manifest(model, version);
  const vocabulary = JSON.parse(await readFile(join(dir, 'vocabulary.json'), 'utf8')) as string[];
  const counts = JSON.parse(await readFile(join(dir, 'popularity.json'), 'utf8')) as number[];
  const encoder = await loadModel(dir);
  if (vocabulary.length !== encoder.config.numItems + 1) {
    encoder.dispose();
    throw new Error(`${dir}: vocabulary has ${vocabulary.length} entries, the model ${encoder.config.numItems + 1}`);
  }
  const popularity = Float32Array.from(counts);
  const order = Array.from({ length: vocabulary.length - 1 }, (_, i) => i + 1).sort((a, b) => popularity[b]! - popularity[a]! || a - b);
  return {
    manifest,
    encoder,
    vocabulary,
    index: new Map(vocabulary.map((id, i) => [id, i] as const).filter(([, i]) => i > 0)),
    popularity,
    popularOrder: Int32Array.from(order),
  };
}
