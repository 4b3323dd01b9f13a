import { EVENT_TYPE_CODE, type EventType } from '@seqrec/contracts';
import type { ModelHistory } from './serving-model';

/** Model indices of the window's items the user had an event of one of `types` with (the "exclude interacted" rule). */
export function interactedItems(h: ModelHistory, types: readonly EventType[]): Int32Array {
  if (types.length === 0 || h.ids.length === 0) return new Int32Array(0);
  let mask = 0;
  for (const t of types) mask |= 1 << EVENT_TYPE_CODE[t];
  const out: number[] = [];
  for (let i = 0; i < h.ids.length; i++) if (mask & (1 << h.types[i]!)) out.push(h.ids[i]!);
  return Int32Array.from(out);
}
