/**
 * Test helpers: a small servable SASRec artifact written straight into a model store (no trainer),
 * optionally trained briefly on a Markov chain so its recommendations follow the chain; and a
 * graph artifact (co-occurrence, item-KNN, popularity) fitted on given sequences.
 */
import { saveArtifact, saveGraphArtifact } from '@seqrec/artifacts';
import { CoocRecommender, ItemKnnRecommender, PopRecommender, itemCounts } from '@seqrec/datasets';
import { createEncoder, initBackend, trainModel, type EncoderConfigInput } from '@seqrec/model';
import { newVersion, type ModelStore } from '@seqrec/model-store';

export interface TestArtifactOptions {
  model?: string;
  version?: string;
  /** External item ids; model index i + 1 is items[i]. */
  items: string[];
  /** Training sequences over `items` (indices into `items`), none: random weights. */
  train?: number[][];
  epochs?: number;
  dim?: number;
  maxLen?: number;
  seed?: number;
  /** Count per item (same order as `items`); default: decreasing with the index. */
  popularity?: number[];
  promote?: boolean;
  config?: Partial<EncoderConfigInput>;
}

export async function createTestArtifact(store: ModelStore, o: TestArtifactOptions): Promise<{ model: string; version: string }> {
  const model = o.model ?? 'sasrec';
  const version = o.version ?? newVersion();
  await initBackend();
  const encoder = createEncoder({
    kind: 'sasrec',
    numItems: o.items.length,
    dim: o.dim ?? 16,
    maxLen: o.maxLen ?? 20,
    blocks: 1,
    dropout: 0,
    seed: o.seed ?? 1,
    ...(o.config as object),
  } as EncoderConfigInput);
  try {
    if (o.train && o.train.length) {
      await trainModel(
        encoder,
        { train: o.train.map((s) => Int32Array.from(s, (i) => i + 1)) } as never,
        { epochs: o.epochs ?? 3, batchSize: 64, lr: 0.01, loss: 'softmax', ...(o.seed !== undefined ? { seed: o.seed } : {}) },
      );
    }
    const popularity = [0, ...(o.popularity ?? o.items.map((_, i) => o.items.length - i))];
    await saveArtifact(store, {
      manifest: { model, version, createdAt: new Date().toISOString(), data: 'test', metrics: {}, backend: 'test' },
      encoder,
      vocabulary: ['', ...o.items],
      popularity,
    });
  } finally {
    encoder.dispose();
  }
  if (o.promote !== false) await store.promote(model, version);
  return { model, version };
}

export interface TestGraphArtifactOptions {
  model?: string;
  version?: string;
  /** External item ids; model index i + 1 is items[i]. */
  items: string[];
  /** Training sequences over `items` (indices into `items`). */
  train: number[][];
  /** `cooc` (default), `itemknn` or `pop`; parameters as the trainer's `--params`. */
  kind?: 'cooc' | 'itemknn' | 'pop';
  params?: Record<string, number>;
  promote?: boolean;
}

/** A servable graph artifact (co-occurrence, item-KNN or popularity) fitted on `train`, as the trainer publishes it. */
export async function createTestGraphArtifact(store: ModelStore, o: TestGraphArtifactOptions): Promise<{ model: string; version: string }> {
  const kind = o.kind ?? 'cooc';
  const model = o.model ?? kind;
  const version = o.version ?? newVersion();
  const train = o.train.map((s) => Int32Array.from(s, (i) => i + 1));
  const n = o.items.length;
  const fitted = kind === 'cooc' ? new CoocRecommender(o.params) : kind === 'itemknn' ? new ItemKnnRecommender(o.params) : new PopRecommender();
  fitted.fit(train, n);
  await saveGraphArtifact(store, {
    manifest: { model, version, createdAt: new Date().toISOString(), data: 'test', metrics: {}, backend: 'none', details: { kind } },
    model: fitted.asGraph(),
    vocabulary: ['', ...o.items],
    popularity: itemCounts(train, n),
  });
  if (o.promote !== false) await store.promote(model, version);
  return { model, version };
}
