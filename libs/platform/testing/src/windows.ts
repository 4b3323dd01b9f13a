import assert from 'node:assert/strict';
import { EVENT_TYPE_CODE, type EventV1 } from '@seqrec/contracts';
import { decodeWindow, type ItemDictionary, type SequenceStore } from '@seqrec/window';

/** A window position as tests compare it: external item id (null for a search), type code, second-resolution ts. */
export interface ExpectedPosition {
  item: string | null;
  type: number;
  ts: number;
}

/**
 * The windows the sequence-builder must produce for a stream of accepted, unique events given in
 * arrival order: per user, a stable sort by second of arrival order, newest `capacity` kept.
 * (Arrival order = order on the user's partition, which is the producer's order per user.)
 */
export function expectedWindows(events: Iterable<Pick<EventV1, 'userId' | 'itemId' | 'type' | 'ts'>>, capacity: number): Map<string, ExpectedPosition[]> {
  const perUser = new Map<string, Array<{ sec: number; i: number; item: string | null; type: number }>>();
  let i = 0;
  for (const e of events) {
    let list = perUser.get(e.userId!);
    if (!list) perUser.set(e.userId!, (list = []));
    list.push({ sec: Math.floor(e.ts / 1000), i: i++, item: e.type === 'search' ? null : (e.itemId ?? null), type: EVENT_TYPE_CODE[e.type] });
  }
  const out = new Map<string, ExpectedPosition[]>();
  for (const [userId, list] of perUser) {
    list.sort((a, b) => a.sec - b.sec || a.i - b.i);
    out.set(userId, list.slice(-capacity).map((e) => ({ item: e.item, type: e.type, ts: e.sec * 1000 })));
  }
  return out;
}

/** Events present in `expected` but not in `got` (lost) and in `got` but not in `expected` (duplicated or foreign), as multisets. */
export function diffWindow(expected: ExpectedPosition[], got: ExpectedPosition[]): { lost: number; extra: number } {
  const key = (p: ExpectedPosition) => `${p.item}|${p.type}|${p.ts}`;
  const counts = new Map<string, number>();
  for (const p of expected) counts.set(key(p), (counts.get(key(p)) ?? 0) + 1);
  let extra = 0;
  for (const p of got) {
    const k = key(p);
    const c = counts.get(k) ?? 0;
    if (c > 0) counts.set(k, c - 1);
    else extra++;
  }
  let lost = 0;
  for (const c of counts.values()) lost += c;
  return { lost, extra };
}

/** The stored windows of `users` as tests compare them (users without a window are left out). */
export async function readWindows(
  store: Pick<SequenceStore, 'getMany'>,
  items: Pick<ItemDictionary, 'idsOf'>,
  users: string[],
): Promise<Map<string, ExpectedPosition[]>> {
  const bufs = await store.getMany(users);
  const out = new Map<string, ExpectedPosition[]>();
  for (let k = 0; k < users.length; k++) {
    const buf = bufs[k];
    if (!buf) continue;
    const w = decodeWindow(buf);
    const ids = await items.idsOf(w.events.map((e) => Math.max(0, e.item)));
    out.set(users[k]!, w.events.map((e, j) => ({ item: e.item >= 0 ? ids[j]! : null, type: e.type, ts: e.ts })));
  }
  return out;
}

/**
 * Compares every expected user's stored window with `expected` (see {@link expectedWindows}):
 * events missing from a window (lost) and events a window holds more often than expected (extra),
 * summed over users.
 */
export async function countWindowDiffs(
  store: Pick<SequenceStore, 'getMany'>,
  items: Pick<ItemDictionary, 'idsOf'>,
  expected: Map<string, ExpectedPosition[]>,
): Promise<{ lost: number; extra: number }> {
  const got = await readWindows(store, items, [...expected.keys()]);
  let lost = 0;
  let extra = 0;
  for (const [userId, want] of expected) {
    const d = diffWindow(want, got.get(userId) ?? []);
    lost += d.lost;
    extra += d.extra;
  }
  return { lost, extra };
}

/**
 * Waits until every expected user's stored window equals `expected` exactly (the same events in the
 * same order). On timeout it fails with the first window that differs, shown against its expected
 * value.
 */
export async function waitForWindows(
  store: Pick<SequenceStore, 'getMany'>,
  items: Pick<ItemDictionary, 'idsOf'>,
  expected: Map<string, ExpectedPosition[]>,
  timeoutMs = 60_000,
): Promise<void> {
  const users = [...expected.keys()];
  const firstDifference = async () => {
    const got = await readWindows(store, items, users);
    const userId = users.find((u) => JSON.stringify(got.get(u)) !== JSON.stringify(expected.get(u)));
    return userId === undefined ? undefined : { userId, got: got.get(userId) };
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // a read that fails (Redis restarting) counts as "not yet"; the last attempt's error is thrown
    const last = Date.now() > deadline;
    const diff = await firstDifference().catch((err: unknown) => {
      if (last) throw err;
      return { userId: '', got: undefined };
    });
    if (!diff) return;
    if (last) {
      assert.deepEqual(diff.got, expected.get(diff.userId), `window of ${diff.userId} after ${timeoutMs} ms`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
