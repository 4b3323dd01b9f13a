import { EVENT_TYPE_CODE, type EventType } from '@seqrec/contracts';
import { fieldEquals, lineError, parseUint, scanLines, splitFields } from '../io';
import type { SequenceDataset } from '../types';
import { nameFromPath } from '../vocabulary';
import { buildDataset } from './build';
import { Float64Column, Int32Column, NumberIndex, Uint8Column } from './columns';

/** Behaviour codes of Taobao UserBehavior. */
export const TAOBAO_BEHAVIORS = ['pv', 'cart', 'fav', 'buy'] as const;
export type TaobaoBehavior = (typeof TAOBAO_BEHAVIORS)[number];

/**
 * How Taobao behaviours map onto our event types. `pv` is an item detail page view, i.e. a click
 * on the item. Our contracts have no "favourite": `fav` is mapped to `add_to_cart`, the nearest
 * intent signal; override it with `behaviorTypes` (or drop it with `behaviors`).
 */
export const TAOBAO_BEHAVIOR_TYPES: Readonly<Record<TaobaoBehavior, EventType>> = Object.freeze({
  pv: 'click',
  cart: 'add_to_cart',
  fav: 'add_to_cart',
  buy: 'purchase',
});

export interface TaobaoOptions {
  /** Dataset name; default from the file name. */
  name?: string;
  /** Keep only these behaviours (default: all four). */
  behaviors?: readonly TaobaoBehavior[];
  /** Overrides of `TAOBAO_BEHAVIOR_TYPES`. */
  behaviorTypes?: Partial<Record<TaobaoBehavior, EventType>>;
  /** Keep only events with `from <= ts < to` (epoch ms). The official window is 2017-11-25..2017-12-03 (UTC+8). */
  timeRange?: { from?: number; to?: number };
  /** Drop an event repeating the previous kept event of the user (same item and behaviour). Default false. */
  collapseRepeats?: boolean;
  /** Users with fewer events are dropped. Default 1. */
  minUserLength?: number;
  /** Items with fewer events are dropped; iterated with `minUserLength` until both hold (k-core). Default 1. */
  minItemCount?: number;
}

/** Start of the official UserBehavior window, 2017-11-25 00:00 China time, epoch ms. */
export const TAOBAO_WINDOW_START_MS = Date.UTC(2017, 10, 24, 16);
/** End (exclusive) of the official window, 2017-12-04 00:00 China time, epoch ms. */
export const TAOBAO_WINDOW_END_MS = Date.UTC(2017, 11, 3, 16);

/**
 * Loads Taobao UserBehavior CSV (`user,item,category,behavior,timestamp`, no header, timestamp in
 * Unix seconds). Each user's events are sorted by time (stable: equal seconds keep file order),
 * behaviours become `EVENT_TYPES` codes (see `TAOBAO_BEHAVIOR_TYPES`), item ids are remapped to
 * 1..N in order of first appearance in the output. Category is read but not kept.
 */
export async function loadTaobao(path: string, options: TaobaoOptions = {}): Promise<SequenceDataset> {
  const mapping = { ...TAOBAO_BEHAVIOR_TYPES, ...options.behaviorTypes };
  const keep = new Set<TaobaoBehavior>(options.behaviors ?? TAOBAO_BEHAVIORS);
  const code: number[] = TAOBAO_BEHAVIORS.map((b) => (keep.has(b) ? EVENT_TYPE_CODE[mapping[b]] : -1));
  for (const b of keep) if (!TAOBAO_BEHAVIORS.includes(b)) throw new RangeError(`unknown Taobao behaviour "${b}"`);
  const from = options.timeRange?.from ?? -Infinity;
  const to = options.timeRange?.to ?? Infinity;

  const users = new NumberIndex();
  const items = new NumberIndex();
  const group = new Int32Column(1 << 16);
  const item = new Int32Column(1 << 16);
  const type = new Uint8Column(1 << 16);
  const ts = new Float64Column(1 << 16);
  const starts = new Int32Array(6);
  const ends = new Int32Array(6);
  let lastUser = -1;
  let lastIndex = -1;
  await scanLines(path, (buf, start, end, lineNo) => {
    if (start === end) return;
    const n = splitFields(buf, start, end, starts, ends);
    if (n !== 5) throw lineError(path, buf, start, end, lineNo, `expected 5 comma-separated fields, got ${n}`);
    const u = parseUint(buf, starts[0]!, ends[0]!);
    const it = parseUint(buf, starts[1]!, ends[1]!);
    const sec = parseUint(buf, starts[4]!, ends[4]!);
    if (u < 0 || it < 0 || sec < 0) throw lineError(path, buf, start, end, lineNo, 'user, item and timestamp must be non-negative integers');
    let b = -1;
    for (let k = 0; k < 4; k++) if (fieldEquals(buf, starts[3]!, ends[3]!, TAOBAO_BEHAVIORS[k]!)) b = k;
    if (b < 0) throw lineError(path, buf, start, end, lineNo, `unknown behaviour ${JSON.stringify(buf.toString('latin1', starts[3]!, ends[3]!))}`);
    const ms = sec * 1000;
    if (code[b]! < 0 || ms < from || ms >= to) return;
    if (u !== lastUser) {
      lastUser = u;
      lastIndex = users.get(u);
    }
    group.push(lastIndex);
    item.push(items.get(it));
    type.push(code[b]!);
    ts.push(ms);
  });
  return buildDataset(
    {
      n: group.length,
      group: group.data,
      groupIds: users.keys.map(String),
      item: item.data,
      itemKeys: items.keys.map(String),
      type: type.data,
      ts: ts.data,
    },
    {
      name: options.name ?? nameFromPath(path),
      sortByTime: true,
      collapseRepeats: options.collapseRepeats ?? false,
      minLength: options.minUserLength ?? 1,
      minItemCount: options.minItemCount ?? 1,
    },
  );
}
