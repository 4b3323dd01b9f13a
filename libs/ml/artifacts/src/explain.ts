/**
 * Why an item was recommended: the events of the shopper's window that drove its score, by
 * occlusion. Each event's weight is how much the item's score falls when that one event is taken
 * out of the window and the window is scored again by the served model itself:
 *
 *   weight(e) = score(item | window) − score(item | window without e)
 *
 * One method for every model kind (SASRec, GRU4Rec, LSTM, item2vec, and the graph models, where it
 * equals the event's neighbour evidence because their score is a sum over the window). It is
 * faithful by definition, for non-additive models too: an attention weight says where a layer
 * looked, not what the answer depends on, and a gradient is a local slope; occlusion is the answer
 * of the model to the very change the explanation talks about. Its price is one more scoring of the
 * window per event (window length + 1 in all), paid only when `explain=true` is asked for.
 */
import { EVENT_TYPES } from '@seqrec/contracts';

/** Scores of `candidates` for one window (model item indices, oldest first, with their event types). */
export type WindowScorer = (history: Int32Array, types: Uint8Array, candidates: Int32Array) => Float32Array | Promise<Float32Array>;

export interface EventAttribution {
  /** Position in the window passed in (0: oldest). */
  position: number;
  /** Model item index of the event. */
  item: number;
  /** Event type code (EVENT_TYPE_CODE). */
  type: number;
  /** Score drop when the event is left out (positive: the event pushed the item up). */
  weight: number;
}

export interface ItemAttribution {
  item: number;
  score: number;
  /** Every event of the window, strongest first (largest weight). */
  events: EventAttribution[];
}

/**
 * Occlusion attributions of `candidates` over the window `history`/`types`: the window is scored
 * once whole and once without each event, in order.
 */
export async function explainByOcclusion(history: Int32Array, types: Uint8Array, candidates: Int32Array, score: WindowScorer): Promise<ItemAttribution[]> {
  if (types.length !== history.length) throw new RangeError(`types (${types.length}) and history (${history.length}) differ in length`);
  const base = await score(history, types, candidates);
  const n = history.length;
  const drops: Float32Array[] = [];
  const h = new Int32Array(Math.max(0, n - 1));
  const t = new Uint8Array(Math.max(0, n - 1));
  for (let e = 0; e < n; e++) {
    h.set(history.subarray(0, e), 0);
    h.set(history.subarray(e + 1), e);
    t.set(types.subarray(0, e), 0);
    t.set(types.subarray(e + 1), e);
    drops.push(Float32Array.from(await score(h, t, candidates)));
  }
  return Array.from(candidates, (item, c) => {
    const events: EventAttribution[] = [];
    for (let e = 0; e < n; e++) events.push({ position: e, item: history[e]!, type: types[e]!, weight: base[c]! - drops[e]![c]! });
    events.sort((a, b) => b.weight - a.weight || b.position - a.position);
    return { item, score: base[c]!, events };
  });
}

const VERBS: Record<string, (item: string) => string> = {
  view: (i) => `viewed ${i}`,
  click: (i) => `clicked ${i}`,
  search: (i) => `searched ${i}`,
  add_to_cart: (i) => `added ${i} to cart`,
  purchase: (i) => `bought ${i}`,
};

/**
 * A sentence for the strongest events (at most `max`, only those with a positive weight):
 * "viewed i00042, added i00007 to cart". Null when no event pushed the item up (its score comes
 * from the model's prior for everyone, not from this shopper's window).
 */
export function reasonText(events: readonly EventAttribution[], label: (item: number) => string, max = 2): string | null {
  const parts: string[] = [];
  for (const e of events) {
    if (parts.length === max || !(e.weight > 0)) break;
    const verb = VERBS[EVENT_TYPES[e.type] ?? 'view'] ?? VERBS['view']!;
    parts.push(verb(label(e.item)));
  }
  return parts.length ? parts.join(', ') : null;
}
