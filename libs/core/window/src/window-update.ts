import type { WindowUpdate } from '@seqrec/contracts';
import { decodeWindow } from './codec';
import type { ItemDictionary } from './stores';
import { sessionsOf } from './window';

/**
 * Item ids by dictionary index, cached: an index never changes its id once the dictionary gave it
 * out, so only indices never seen before cost a round trip. Bounded: past `maxEntries` the cache
 * starts again empty (the dictionary stays the source of truth).
 */
export class ItemIdCache {
  private readonly ids = new Map<number, string>();

  constructor(
    private readonly dictionary: Pick<ItemDictionary, 'idsOf'>,
    private readonly maxEntries = 2_000_000,
  ) {}

  async idsOf(indices: Iterable<number>): Promise<Map<number, string>> {
    const missing = new Set<number>();
    for (const ix of indices) if (ix >= 0 && !this.ids.has(ix)) missing.add(ix);
    if (missing.size > 0) {
      const list = [...missing];
      const found = await this.dictionary.idsOf(list);
      if (this.ids.size + list.length > this.maxEntries) this.ids.clear();
      list.forEach((ix, k) => {
        const id = found[k];
        if (id !== undefined) this.ids.set(ix, id);
      });
    }
    return this.ids;
  }
}

/** A message of the window-updates topic as consumed. */
export interface WindowUpdateMessage {
  key: Buffer | null;
  value: Buffer | null;
  /** When the sequence-builder wrote it, epoch ms. */
  timestamp: number;
}

/**
 * Decodes window-update messages (key: user id; value: the window in the window codec, item
 * indices from the item dictionary) into updates with item ids and session numbers. Messages
 * without a key or with an undecodable window are returned in `bad` (never thrown).
 */
export async function decodeWindowUpdates(
  messages: WindowUpdateMessage[],
  items: ItemIdCache,
  sessionGapMs: number,
): Promise<{ updates: WindowUpdate[]; bad: number }> {
  const decoded: Array<{ userId: string; window: ReturnType<typeof decodeWindow>; timestamp: number }> = [];
  let bad = 0;
  const indices = new Set<number>();
  for (const m of messages) {
    if (!m.key || !m.value) {
      bad++;
      continue;
    }
    try {
      const window = decodeWindow(m.value);
      for (const e of window.events) if (e.item >= 0) indices.add(e.item);
      decoded.push({ userId: m.key.toString('utf8'), window, timestamp: m.timestamp });
    } catch {
      bad++;
    }
  }
  const ids = await items.idsOf(indices);
  const updates = decoded.map(({ userId, window, timestamp }): WindowUpdate => {
    const ev = window.events;
    return {
      userId,
      lastTs: ev.length ? ev[ev.length - 1]!.ts : 0,
      updatedAt: timestamp,
      items: ev.map((e) => (e.item >= 0 ? (ids.get(e.item) ?? `#${e.item}`) : '')),
      types: ev.map((e) => e.type),
      ts: ev.map((e) => e.ts),
      sessions: sessionsOf(ev, sessionGapMs),
    };
  });
  return { updates, bad };
}
