/**
 * Warm start across a changed item vocabulary: copies a trained model's weights into a fresh model
 * of the same architecture built for another vocabulary. Weights indexed by item (declared by
 * their layers, {@link ItemIndexedLayer}) are remapped row by row by external item id; every
 * other weight is copied as it is. Optimiser state is not part of a model, so it is never carried
 * over: training the warm-started model starts a new Adam.
 */
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import type { EncoderConfig } from './config';
import type { SequenceEncoder } from './encoder';
import { fmtShape, isItemIndexedLayer, type LayerVariable } from './layers/common';
import { tf } from './tf';
import { SeqrecError } from '@seqrec/contracts';

/** The two models' weights do not correspond (another architecture): nothing was written. */
export class IncompatibleWeightsError extends SeqrecError {
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = 'IncompatibleWeightsError';
  }
}

/** What {@link remapItemRows} did. */
export interface ItemRemapResult {
  /** Items of the new vocabulary that were in the old one (their rows were copied). */
  carried: number;
  /** Items of the new vocabulary that were not in the old one (their rows keep the new model's initial values). */
  added: number;
  /** Items of the old vocabulary that are not in the new one (their rows were dropped). */
  removed: number;
  /** Names of the item-indexed weights remapped (e.g. `item_embedding/items`). */
  itemWeights: string[];
  /** Number of other weights copied unchanged. */
  copiedWeights: number;
}

/** One architecture field whose value differs between two configs. */
export interface ConfigDifference {
  field: string;
  from: unknown;
  to: unknown;
}

/**
 * Fields of two configs that differ, ignoring `numItems` (the vocabulary size) and `seed` (the
 * initialiser seed): empty when a model of config `a` can be warm-started from one of config `b`
 * with {@link remapItemRows}. A different `kind` is reported as a difference.
 */
export function architectureDifferences(a: Readonly<EncoderConfig>, b: Readonly<EncoderConfig>): ConfigDifference[] {
  const ra = a as unknown as Readonly<Record<string, unknown>>;
  const rb = b as unknown as Readonly<Record<string, unknown>>;
  const fields = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((f) => f !== 'numItems' && f !== 'seed');
  return fields.filter((f) => ra[f] !== rb[f]).map((f) => ({ field: f, from: ra[f], to: rb[f] }));
}

/** Item id → index (1..numItems) of a vocabulary (entry 0 is padding), checking its size and uniqueness. */
function indexOfIds(vocabulary: readonly string[], numItems: number, which: string): Map<string, number> {
  if (vocabulary.length !== numItems + 1) {
    throw new RangeError(`${which} vocabulary has ${vocabulary.length} entries, its model has ${numItems} items (expected ${numItems + 1} entries with padding at 0)`);
  }
  const index = new Map<string, number>();
  for (let i = 1; i < vocabulary.length; i++) {
    const id = vocabulary[i]!;
    const prev = index.get(id);
    if (prev !== undefined) throw new RangeError(`${which} vocabulary has item "${id}" twice (indices ${prev} and ${i})`);
    index.set(id, i);
  }
  return index;
}

/** Weight pairs (old, new) of two models, matched by layer name and weight name. */
interface WeightPair {
  from: LayerVariable;
  to: LayerVariable;
  itemIndexed: boolean;
}

function pairWeights(from: LayersModel, to: LayersModel): WeightPair[] {
  const fromLayers = new Map(from.layers.map((l) => [l.name, l] as const));
  const toNames = new Set(to.layers.map((l) => l.name));
  for (const l of from.layers) {
    if (l.weights.length > 0 && !toNames.has(l.name)) {
      throw new IncompatibleWeightsError(`layer ${l.name} (${l.weights.length} weights) of the old model has no counterpart in the new one`);
    }
  }
  const pairs: WeightPair[] = [];
  for (const t of to.layers) {
    if (t.weights.length === 0) continue;
    const f = fromLayers.get(t.name);
    if (!f) throw new IncompatibleWeightsError(`layer ${t.name} of the new model has no counterpart in the old one`);
    if (f.getClassName() !== t.getClassName()) {
      throw new IncompatibleWeightsError(`layer ${t.name} is a ${f.getClassName()} in the old model, a ${t.getClassName()} in the new one`);
    }
    if (f.weights.length !== t.weights.length) {
      throw new IncompatibleWeightsError(`layer ${t.name} has ${f.weights.length} weights in the old model, ${t.weights.length} in the new one`);
    }
    const fromItem = new Set(isItemIndexedLayer(f) ? f.itemIndexedWeights() : []);
    const toItem = new Set(isItemIndexedLayer(t) ? t.itemIndexedWeights() : []);
    t.weights.forEach((tw, j) => {
      const fw = f.weights[j]!;
      if (fw.originalName !== tw.originalName) {
        throw new IncompatibleWeightsError(`layer ${t.name}: weight ${j} is ${fw.originalName} in the old model, ${tw.originalName} in the new one`);
      }
      const itemIndexed = toItem.has(tw);
      if (itemIndexed !== fromItem.has(fw)) {
        throw new IncompatibleWeightsError(`${tw.originalName} is item-indexed in only one of the two models`);
      }
      pairs.push({ from: fw, to: tw, itemIndexed });
    });
  }
  return pairs;
}

function checkShapes(p: WeightPair, fromRows: number, toRows: number): void {
  const fs = p.from.shape;
  const ts = p.to.shape;
  if (p.itemIndexed) {
    if (fs[0] !== fromRows || ts[0] !== toRows) {
      throw new IncompatibleWeightsError(
        `item-indexed ${p.to.originalName} is ${fmtShape(fs)} in the old model and ${fmtShape(ts)} in the new one, expected ${fromRows} and ${toRows} rows`,
      );
    }
    if (fs.length !== ts.length || fs.some((d, i) => i > 0 && d !== ts[i])) {
      throw new IncompatibleWeightsError(`item-indexed ${p.to.originalName}: rows of ${fmtShape(fs)} (old) and ${fmtShape(ts)} (new) differ in shape`);
    }
  } else if (fs.length !== ts.length || fs.some((d, i) => d !== ts[i])) {
    throw new IncompatibleWeightsError(`${p.to.originalName} is ${fmtShape(fs)} in the old model, ${fmtShape(ts)} in the new one`);
  }
}

/**
 * Warm-starts `to` from `from` across vocabularies: for every item-indexed weight (item table,
 * item2vec's context table, any per-item table a layer declares), row i of `to` becomes the row of
 * item `toVocabulary[i]` in `from` when `fromVocabulary` has that item, and keeps its current
 * (freshly initialised) value otherwise; row 0 (padding) is copied. Every other weight is copied
 * as it is. `to` must be built from the same architecture as `from` (only `numItems` and `seed`
 * may differ).
 *
 * Everything is checked before anything is written: on an {@link IncompatibleWeightsError}
 * (layers, weights or shapes that do not correspond) or a RangeError (a vocabulary whose size does
 * not match its model or with a duplicate id) `to` is unchanged. `from` is never changed. Creates
 * no lasting tensors. Optimiser state is not carried over (it is not part of a model).
 */
export function remapItemRows(
  from: SequenceEncoder,
  fromVocabulary: readonly string[],
  to: SequenceEncoder,
  toVocabulary: readonly string[],
): ItemRemapResult {
  if (from.name !== to.name) throw new IncompatibleWeightsError(`the old model is a ${from.name}, the new one a ${to.name}`);
  const fromN = from.config.numItems;
  const toN = to.config.numItems;
  const fromIndex = indexOfIds(fromVocabulary, fromN, 'old');
  indexOfIds(toVocabulary, toN, 'new');
  const pairs = pairWeights(from.model, to.model);
  for (const p of pairs) checkShapes(p, fromN + 1, toN + 1);

  // Rows of concat([old table, new table]) to gather: old row of a carried item, own row otherwise.
  const rows = new Int32Array(toN + 1);
  let carried = 0;
  for (let i = 1; i <= toN; i++) {
    const old = fromIndex.get(toVocabulary[i]!);
    if (old !== undefined) carried++;
    rows[i] = old ?? fromN + 1 + i;
  }
  rows[0] = 0;

  const itemWeights: string[] = [];
  for (const p of pairs) {
    if (!p.itemIndexed) {
      p.to.write(p.from.read());
      continue;
    }
    const value: Tensor = tf.tidy(() => tf.gather(tf.concat([p.from.read(), p.to.read()], 0), tf.tensor1d(rows, 'int32')));
    p.to.write(value);
    value.dispose();
    itemWeights.push(p.to.originalName);
  }
  to.invalidate();
  return { carried, added: toN - carried, removed: fromN - carried, itemWeights, copiedWeights: pairs.length - itemWeights.length };
}
