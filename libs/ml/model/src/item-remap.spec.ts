import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { initBackend } from './backend';
import { resolveConfig, type EncoderConfigInput } from './config';
import { CONTEXT_TABLE_LAYER, ITEM_EMBEDDING_LAYER, createEncoder, type LayersSequenceEncoder } from './encoder';
import { loadModel, saveModel } from './io';
import { IncompatibleWeightsError, architectureDifferences, remapItemRows } from './item-remap';
import { Rng } from '@seqrec/random';
import { tf } from './tf';

before(async () => {
  await initBackend('cpu');
});

/** Padding entry plus ids. */
const vocab = (ids: readonly string[]): string[] => ['', ...ids];

// Old vocabulary: i1..i30. New: 5 gone (i3, i7, i11, i19, i30), 4 new (n1..n4), order shuffled.
const OLD_IDS = Array.from({ length: 30 }, (_, i) => `i${i + 1}`);
const GONE = new Set(['i3', 'i7', 'i11', 'i19', 'i30']);
const NEW_IDS = new Rng(11).shuffle([...OLD_IDS.filter((id) => !GONE.has(id)), 'n1', 'n2', 'n3', 'n4']);
const oldVocab = vocab(OLD_IDS);
const newVocab = vocab(NEW_IDS);

const cfg = (kind: EncoderConfigInput['kind'], numItems: number, seed: number, extra: Partial<EncoderConfigInput> = {}): EncoderConfigInput =>
  ({ kind, numItems, dim: 8, maxLen: 10, blocks: 1, heads: 2, seed, ...extra }) as EncoderConfigInput;

/** Rows of a [N + 1, d] table as arrays. */
function rowsOf(t: tf.Tensor): number[][] {
  return t.arraySync() as number[][];
}

function weightNamed(enc: LayersSequenceEncoder, layer: string, weight: string): number[] {
  const w = enc.model.getLayer(layer).weights.find((v) => v.originalName === `${layer}/${weight}`);
  assert.ok(w, `${layer}/${weight} exists`);
  return Array.from(w.read().dataSync());
}

/** Checks every item-indexed table of `to` against `from` (after) and `to` (before). */
function checkTable(before: number[][], from: number[][], after: number[][]): void {
  assert.equal(after.length, newVocab.length);
  assert.deepEqual(after[0], from[0], 'padding row copied');
  const oldIndex = new Map(oldVocab.map((id, i) => [id, i] as const));
  for (let i = 1; i < newVocab.length; i++) {
    const o = oldIndex.get(newVocab[i]!);
    if (o !== undefined) assert.deepEqual(after[i], from[o], `row of ${newVocab[i]} copied from old row ${o}`);
    else assert.deepEqual(after[i], before[i], `new item ${newVocab[i]} keeps its initial row`);
  }
}

describe(remapItemRows.name, () => {
  it('remaps the item table of a SASRec by item id, copies every other weight, leaks no tensor', async () => {
    const from = createEncoder(cfg('sasrec', OLD_IDS.length, 1));
    const to = createEncoder(cfg('sasrec', NEW_IDS.length, 2));
    try {
      const beforeTo = rowsOf(to.itemTable());
      const fromRows = rowsOf(from.itemTable());
      const fromWeights = from.model.getWeights().map((w) => Array.from(w.dataSync()));
      const tensors = tf.memory().numTensors;

      const r = remapItemRows(from, oldVocab, to, newVocab);

      assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
      assert.deepEqual(r, { carried: 25, added: 4, removed: 5, itemWeights: [`${ITEM_EMBEDDING_LAYER}/items`], copiedWeights: r.copiedWeights });
      assert.equal(r.copiedWeights, to.model.weights.length - 1);
      checkTable(beforeTo, fromRows, rowsOf(to.itemTable()));
      for (const [layer, weight] of [
        [ITEM_EMBEDDING_LAYER, 'positions'],
        ['block0_attention', 'query_kernel'],
        ['block0_ln_ffn', 'gamma'],
        ['final_ln', 'beta'],
      ] as const) {
        assert.deepEqual(weightNamed(to, layer, weight), weightNamed(from, layer, weight), `${layer}/${weight} copied`);
      }
      assert.deepEqual(
        from.model.getWeights().map((w) => Array.from(w.dataSync())),
        fromWeights,
        'the old model is unchanged',
      );
      // Scoring works on the remapped model (the serving caches were dropped).
      const ids = new Int32Array([newVocab.indexOf('i1'), newVocab.indexOf('n1'), newVocab.indexOf('i2')]);
      const top = await to.topK([ids], 5);
      assert.equal(top[0]!.items.length, 5);
    } finally {
      from.dispose();
      to.dispose();
    }
  });

  it("remaps both of item2vec's tables (input and context vectors)", () => {
    const extra = { scoreWith: 'context', similarity: 'dot' } as const;
    const from = createEncoder(cfg('item2vec', OLD_IDS.length, 1, extra));
    const to = createEncoder(cfg('item2vec', NEW_IDS.length, 2, extra));
    try {
      // Context tables start at zero: give the old one distinct values so the check means something.
      const ctx = from.model.getLayer(CONTEXT_TABLE_LAYER).weights[0]!;
      const filled = tf.randomNormal(ctx.shape as number[], 0, 1, 'float32', 3);
      ctx.write(filled);
      filled.dispose();
      const beforeInput = rowsOf(to.inputTable());
      const beforeContext = rowsOf(to.itemTable());
      const tensors = tf.memory().numTensors;
      const r = remapItemRows(from, oldVocab, to, newVocab);
      assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
      assert.deepEqual(r.itemWeights.sort(), [`${CONTEXT_TABLE_LAYER}/items`, `${ITEM_EMBEDDING_LAYER}/items`]);
      assert.equal(r.copiedWeights, 0);
      checkTable(beforeInput, rowsOf(from.inputTable()), rowsOf(to.inputTable()));
      checkTable(beforeContext, rowsOf(from.itemTable()), rowsOf(to.itemTable()));
    } finally {
      from.dispose();
      to.dispose();
    }
  });

  it('remaps a GRU4Rec loaded from disk (weight names survive saving)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'item-remap-'));
    const saved = createEncoder(cfg('gru4rec', OLD_IDS.length, 1, { units: 12 }));
    let from: LayersSequenceEncoder | null = null;
    const to = createEncoder(cfg('gru4rec', NEW_IDS.length, 2, { units: 12 }));
    try {
      await saveModel(saved, dir);
      from = await loadModel(dir);
      const beforeTo = rowsOf(to.itemTable());
      const tensors = tf.memory().numTensors;
      const r = remapItemRows(from, oldVocab, to, newVocab);
      assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
      assert.equal(r.carried, 25);
      checkTable(beforeTo, rowsOf(from.itemTable()), rowsOf(to.itemTable()));
      assert.deepEqual(weightNamed(to, 'gru', 'recurrent_kernel'), weightNamed(from, 'gru', 'recurrent_kernel'));
      assert.deepEqual(weightNamed(to, 'projection', 'kernel'), weightNamed(from, 'projection', 'kernel'));
    } finally {
      saved.dispose();
      from?.dispose();
      to.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses another architecture or a vocabulary that does not fit, and then changes nothing', () => {
    const from = createEncoder(cfg('gru4rec', OLD_IDS.length, 1, { units: 12 }));
    const wider = createEncoder(cfg('gru4rec', NEW_IDS.length, 2, { units: 16 }));
    const lstm = createEncoder(cfg('lstm', NEW_IDS.length, 2, { units: 12 }));
    try {
      const before = wider.model.getWeights().map((w) => Array.from(w.dataSync()));
      const tensors = tf.memory().numTensors;
      assert.throws(() => remapItemRows(from, oldVocab, wider, newVocab), (e: unknown) => {
        assert.ok(e instanceof IncompatibleWeightsError);
        assert.match(e.message, /^gru\/kernel is \[8, 36\] in the old model, \[8, 48\] in the new one$/);
        return true;
      });
      assert.deepEqual(wider.model.getWeights().map((w) => Array.from(w.dataSync())), before, 'nothing written');
      assert.equal(tf.memory().numTensors, tensors);
      assert.throws(() => remapItemRows(from, oldVocab, lstm, newVocab), /the old model is a gru4rec, the new one a lstm/);
      assert.throws(() => remapItemRows(from, oldVocab.slice(1), wider, newVocab), /old vocabulary has 30 entries, its model has 30 items \(expected 31/);
      assert.throws(() => remapItemRows(from, oldVocab, wider, [...newVocab.slice(0, -1), 'i1']), /new vocabulary has item "i1" twice/);
    } finally {
      from.dispose();
      wider.dispose();
      lstm.dispose();
    }
  });
});

describe(architectureDifferences.name, () => {
  it('ignores numItems and seed, names every other field that differs', () => {
    const a = resolveConfig(cfg('sasrec', 30, 1));
    assert.deepEqual(architectureDifferences(a, resolveConfig(cfg('sasrec', 99, 5))), []);
    assert.deepEqual(architectureDifferences(a, resolveConfig(cfg('sasrec', 30, 1, { dim: 16, blocks: 2 }))), [
      { field: 'dim', from: 8, to: 16 },
      { field: 'blocks', from: 1, to: 2 },
      { field: 'innerDim', from: 8, to: 16 },
    ]);
    assert.deepEqual(
      architectureDifferences(resolveConfig(cfg('gru4rec', 30, 1)), resolveConfig(cfg('lstm', 30, 1))).map((d) => d.field),
      ['kind'],
    );
  });
});
