import type { SequenceDataset } from '../types';
import { ItemVocabulary } from '../vocabulary';

/**
 * Events in source order, with provisional dense ids: the common middle step of every loader that
 * reads raw events (Taobao, Yoochoose, the events topic). Column `e` is one event.
 */
export interface EventTable {
  /** Number of events. */
  n: number;
  /** Group (user or session) of each event, 0-based in order of first appearance. */
  group: Int32Array;
  /** External id of each group. */
  groupIds: string[];
  /** Provisional item of each event, 0-based index into `itemKeys`. */
  item: Int32Array;
  /** External id of each provisional item. */
  itemKeys: string[];
  /** `EVENT_TYPES` code per event. */
  type?: Uint8Array;
  /** Epoch ms per event. */
  ts?: Float64Array;
}

export interface BuildOptions {
  name: string;
  /** Sort each group's events by time (stable: ties keep source order). Needs `ts`. */
  sortByTime?: boolean;
  /** Drop an event whose item and type equal the previous kept event of the same group. */
  collapseRepeats?: boolean;
  /** Groups with fewer events are dropped (after the other filters). Default 1. */
  minLength?: number;
  /**
   * Items with fewer events are dropped. Applied together with `minLength` until both hold
   * (iterative k-core when both are k). Default 1.
   */
  minItemCount?: number;
  /** Map items through this vocabulary (it is extended in place when `unknownItems` is 'add'). */
  vocabulary?: ItemVocabulary;
  /** What to do with items the given vocabulary lacks. Default 'add'. */
  unknownItems?: 'add' | 'drop';
}

/** Groups, sorts, filters and densifies an event table into a `SequenceDataset`. */
export function buildDataset(t: EventTable, o: BuildOptions): SequenceDataset {
  const E = t.n;
  const G = t.groupIds.length;
  const I = t.itemKeys.length;
  const minLength = o.minLength ?? 1;
  const minItemCount = o.minItemCount ?? 1;

  // Stable bucket of event indices by group.
  const offsets = new Int32Array(G + 1);
  for (let e = 0; e < E; e++) offsets[t.group[e]! + 1]!++;
  for (let g = 0; g < G; g++) offsets[g + 1]! += offsets[g]!;
  const order = new Int32Array(E);
  const fill = offsets.slice(0, G);
  for (let e = 0; e < E; e++) order[fill[t.group[e]!]!++] = e;

  if (o.sortByTime && t.ts) {
    const ts = t.ts;
    for (let g = 0; g < G; g++) {
      const a = offsets[g]!;
      const b = offsets[g + 1]!;
      let sorted = true;
      for (let k = a + 1; k < b && sorted; k++) if (ts[order[k]!]! < ts[order[k - 1]!]!) sorted = false;
      if (sorted) continue;
      const slice = Array.from(order.subarray(a, b));
      slice.sort((x, y) => ts[x]! - ts[y]! || x - y);
      order.set(slice, a);
    }
  }

  const alive = new Uint8Array(E).fill(1);
  const vocab = o.vocabulary ?? new ItemVocabulary();
  const finalIndex = new Int32Array(I); // 0 = not resolved yet
  if (o.vocabulary && (o.unknownItems ?? 'add') === 'drop') {
    for (let p = 0; p < I; p++) finalIndex[p] = o.vocabulary.indexOf(t.itemKeys[p]!) || -1;
    for (let e = 0; e < E; e++) if (finalIndex[t.item[e]!]! < 0) alive[e] = 0;
  }

  if (o.collapseRepeats) {
    for (let g = 0; g < G; g++) {
      let prev = -1;
      for (let k = offsets[g]!; k < offsets[g + 1]!; k++) {
        const e = order[k]!;
        if (!alive[e]) continue;
        if (prev >= 0 && t.item[e] === t.item[prev] && (!t.type || t.type[e] === t.type[prev])) alive[e] = 0;
        else prev = e;
      }
    }
  }

  if (minLength > 1 || minItemCount > 1) {
    const groupCount = new Int32Array(G);
    const itemCount = new Int32Array(I);
    for (;;) {
      groupCount.fill(0);
      itemCount.fill(0);
      for (let e = 0; e < E; e++) {
        if (!alive[e]) continue;
        groupCount[t.group[e]!]!++;
        itemCount[t.item[e]!]!++;
      }
      let changed = false;
      for (let e = 0; e < E; e++) {
        if (alive[e] && (groupCount[t.group[e]!]! < minLength || itemCount[t.item[e]!]! < minItemCount)) {
          alive[e] = 0;
          changed = true;
        }
      }
      if (!changed) break;
    }
  }

  const users: string[] = [];
  const sequences: Int32Array[] = [];
  const types: Uint8Array[] | undefined = t.type ? [] : undefined;
  const timestamps: Float64Array[] | undefined = t.ts ? [] : undefined;
  for (let g = 0; g < G; g++) {
    const a = offsets[g]!;
    const b = offsets[g + 1]!;
    let n = 0;
    for (let k = a; k < b; k++) n += alive[order[k]!]!;
    if (n === 0 || n < minLength) continue;
    const seq = new Int32Array(n);
    const ty = t.type ? new Uint8Array(n) : undefined;
    const tm = t.ts ? new Float64Array(n) : undefined;
    let j = 0;
    for (let k = a; k < b; k++) {
      const e = order[k]!;
      if (!alive[e]) continue;
      const p = t.item[e]!;
      let idx = finalIndex[p]!;
      if (idx === 0) idx = finalIndex[p] = vocab.add(t.itemKeys[p]!);
      seq[j] = idx;
      if (ty) ty[j] = t.type![e]!;
      if (tm) tm[j] = t.ts![e]!;
      j++;
    }
    users.push(t.groupIds[g]!);
    sequences.push(seq);
    if (types) types.push(ty!);
    if (timestamps) timestamps.push(tm!);
  }
  const ds: SequenceDataset = { name: o.name, numItems: vocab.size, itemIds: vocab.ids.slice(), users, sequences };
  if (types) ds.types = types;
  if (timestamps) ds.timestamps = timestamps;
  return ds;
}
