/**
 * Test helpers: a small servable SASRec artifact written straight into a model store (no trainer),
 * optionally trained briefly on a Markov chain so its recommendations follow the chain.
 */
import { saveArtifact } from '@seqrec/artifacts';
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
