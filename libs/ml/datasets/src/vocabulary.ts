import type { SequenceDataset } from './types';

/**
 * External item id ⇄ dense index. Index 0 is padding (id ''), real items are 1..size, numbered in
 * the order they were first added.
 */
export class ItemVocabulary {
  private readonly index = new Map<string, number>();
  private readonly idList: string[] = [''];

  /** A vocabulary holding `itemIds` (`itemIds[0]` must be the padding id ''). */
  static fromIds(itemIds: readonly string[]): ItemVocabulary {
    if (itemIds[0] !== '') throw new RangeError(`itemIds[0] must be '' (padding), got ${JSON.stringify(itemIds[0])}`);
    const v = new ItemVocabulary();
    for (let i = 1; i < itemIds.length; i++) {
      if (v.add(itemIds[i]!) !== i) throw new RangeError(`duplicate item id ${JSON.stringify(itemIds[i])} at index ${i}`);
    }
    return v;
  }

  /** Number of real items (the padding slot not counted). */
  get size(): number {
    return this.idList.length - 1;
  }

  /** External ids by index, `[0]` is ''. Do not mutate. */
  get ids(): readonly string[] {
    return this.idList;
  }

  /** Index of `id`, 0 when unknown. */
  indexOf(id: string): number {
    return this.index.get(id) ?? 0;
  }

  /** Index of `id`, adding it when new. */
  add(id: string): number {
    let i = this.index.get(id);
    if (i === undefined) {
      if (id === '') throw new RangeError('the empty item id is reserved for padding');
      i = this.idList.length;
      this.idList.push(id);
      this.index.set(id, i);
    }
    return i;
  }
}

/** Headline counts of a dataset. */
export interface DatasetStats {
  name: string;
  users: number;
  /** Size of the vocabulary (`numItems`). */
  items: number;
  /** Items that occur at least once. */
  itemsSeen: number;
  interactions: number;
  minLength: number;
  maxLength: number;
  meanLength: number;
}

export function datasetStats(ds: SequenceDataset): DatasetStats {
  const seen = new Uint8Array(ds.numItems + 1);
  let interactions = 0;
  let minLength = Infinity;
  let maxLength = 0;
  for (const s of ds.sequences) {
    interactions += s.length;
    if (s.length < minLength) minLength = s.length;
    if (s.length > maxLength) maxLength = s.length;
    for (let i = 0; i < s.length; i++) seen[s[i]!] = 1;
  }
  let itemsSeen = 0;
  for (let i = 1; i < seen.length; i++) itemsSeen += seen[i]!;
  const users = ds.sequences.length;
  return {
    name: ds.name,
    users,
    items: ds.numItems,
    itemsSeen,
    interactions,
    minLength: users ? minLength : 0,
    maxLength,
    meanLength: users ? interactions / users : 0,
  };
}

/**
 * Checks the invariants every consumer relies on (lengths agree, indices in 1..numItems) and
 * throws a RangeError naming the first violation.
 */
export function assertValidDataset(ds: SequenceDataset): void {
  if (ds.itemIds.length !== ds.numItems + 1) throw new RangeError(`itemIds has ${ds.itemIds.length} entries, expected numItems + 1 = ${ds.numItems + 1}`);
  if (ds.itemIds[0] !== '') throw new RangeError(`itemIds[0] must be ''`);
  if (ds.users.length !== ds.sequences.length) throw new RangeError(`${ds.users.length} users but ${ds.sequences.length} sequences`);
  for (let u = 0; u < ds.sequences.length; u++) {
    const s = ds.sequences[u]!;
    for (let i = 0; i < s.length; i++) {
      if (s[i]! < 1 || s[i]! > ds.numItems) throw new RangeError(`user ${u} position ${i}: item ${s[i]} outside 1..${ds.numItems}`);
    }
    if (ds.types && ds.types[u]!.length !== s.length) throw new RangeError(`user ${u}: ${ds.types[u]!.length} types for ${s.length} items`);
    if (ds.timestamps && ds.timestamps[u]!.length !== s.length) throw new RangeError(`user ${u}: ${ds.timestamps[u]!.length} timestamps for ${s.length} items`);
  }
}

/** `ml-1m` from `/x/ml-1m.txt.gz`: the file name without its extensions, lower-cased. */
export function nameFromPath(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/(\.(gz|txt|csv|tsv|dat|jsonl|ndjson))+$/i, '').toLowerCase();
}
