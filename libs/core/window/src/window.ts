import { MAX_EARLIER, type SequenceWindow, type Watermark, type WindowEvent } from './codec';

/** One event to apply, with the bus position it came from. */
export interface IncomingEvent extends WindowEvent {
  partition: number;
  offset: number;
}

export interface ApplyResult {
  window: SequenceWindow;
  /** Events now in the window that were not before. */
  applied: number;
  /** Events at or below the watermark: already applied (redelivery), skipped. */
  stale: number;
  /** Late events older than everything in a full window: outside the window, dropped. */
  tooLate: number;
}

/**
 * Applies events to a window, idempotently and in time order.
 *
 * - Events whose offset is at or below the window's watermark for their partition were applied
 *   before (a redelivery after a crash or a rebalance) and are skipped.
 * - New events are merged by timestamp (second resolution), after existing events with the same
 *   second and, among themselves, in offset order, so late events land where they belong.
 * - The window keeps the newest `capacity` events.
 * - The watermark becomes the newest applied offset of the batch's partition; watermarks of other
 *   partitions the user's events came from are kept as `earlier` (at most MAX_EARLIER), so after
 *   the events topic's partition count changed a redelivery from the old partition is still
 *   recognised.
 */
export function applyEvents(current: SequenceWindow | null, incoming: IncomingEvent[], capacity: number): ApplyResult {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  const window = current ?? { watermark: null, events: [] };
  // last applied offset per partition: the newest batch's partition and the earlier ones
  const applied = new Map<number, number>();
  for (const w of [...(window.earlier ?? [])].reverse()) applied.set(w.partition, w.offset);
  if (window.watermark) applied.set(window.watermark.partition, window.watermark.offset);
  let stale = 0;
  const fresh: IncomingEvent[] = [];
  let newest: number | undefined;
  for (const e of incoming) {
    const last = applied.get(e.partition);
    if (last !== undefined && e.offset <= last) {
      stale++;
      continue;
    }
    fresh.push(e);
    applied.delete(e.partition); // re-inserted last: the map's order is most recent last
    applied.set(e.partition, e.offset);
    newest = e.partition;
  }
  if (fresh.length === 0) return { window, applied: 0, stale, tooLate: 0 };

  fresh.sort((a, b) => second(a.ts) - second(b.ts) || a.offset - b.offset);
  const merged: Array<WindowEvent & { isNew?: boolean }> = [];
  const old = window.events;
  let i = 0;
  let j = 0;
  while (i < old.length || j < fresh.length) {
    if (j >= fresh.length || (i < old.length && second(old[i]!.ts) <= second(fresh[j]!.ts))) {
      merged.push(old[i++]!);
    } else {
      const f = fresh[j++]!;
      merged.push({ item: f.item, type: f.type, ts: second(f.ts) * 1000, isNew: true });
    }
  }
  const cut = Math.max(0, merged.length - capacity);
  let tooLate = 0;
  for (let k = 0; k < cut; k++) if (merged[k]!.isNew) tooLate++;
  const events = merged.slice(cut).map((e) => ({ item: e.item, type: e.type, ts: e.ts }));
  // the partition of the newest event is the watermark, the others (most recent first) the earlier ones
  const order = [...applied.entries()].reverse();
  const watermark = { partition: newest!, offset: applied.get(newest!)! };
  const earlier = order.filter(([p]) => p !== newest).slice(0, MAX_EARLIER).map(([partition, offset]) => ({ partition, offset }));
  const next: SequenceWindow = earlier.length > 0 ? { watermark, earlier, events } : { watermark, events };
  return { window: next, applied: fresh.length - tooLate, stale, tooLate };
}

/** Session number of each event (0 for the oldest), a new session after a gap longer than `gapMs`. */
export function sessionsOf(events: readonly WindowEvent[], gapMs: number): number[] {
  const out = new Array<number>(events.length);
  let s = 0;
  for (let i = 0; i < events.length; i++) {
    if (i > 0 && events[i]!.ts - events[i - 1]!.ts > gapMs) s++;
    out[i] = s;
  }
  return out;
}

function second(ts: number): number {
  return Math.floor(ts / 1000);
}

/**
 * The window of a user who logged in with an anonymous session: the session's events merged into
 * the user's, interleaved by time (second resolution; at the same second the session's events first:
 * a session's events come before the login that merges them),
 * the newest `capacity` kept. Each event of the topic is in at most one of the two windows (an event
 * goes to its subject's window, and a session's window takes no event once its merge began), so
 * the union holds every event once; the watermarks are united too (per partition the later offset,
 * the user's partition first), so a redelivery of an event from either window is still recognised.
 */
export function mergeWindows(user: SequenceWindow | null, session: SequenceWindow, capacity: number): SequenceWindow {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  const a = user?.events ?? [];
  const b = session.events;
  const events: WindowEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && second(a[i]!.ts) < second(b[j]!.ts))) events.push(a[i++]!);
    else events.push(b[j++]!);
  }
  const applied = new Map<number, number>();
  const add = (w: Watermark | null | undefined): void => {
    if (w && (applied.get(w.partition) ?? -1) < w.offset) applied.set(w.partition, w.offset);
  };
  for (const w of [user?.watermark, session.watermark, ...(user?.earlier ?? []), ...(session.earlier ?? [])]) add(w);
  const kept = events.slice(Math.max(0, events.length - capacity)).map((e) => ({ item: e.item, type: e.type, ts: e.ts }));
  const order = [...applied].map(([partition, offset]) => ({ partition, offset }));
  const watermark = order[0] ?? null;
  const earlier = order.slice(1, 1 + MAX_EARLIER);
  return earlier.length > 0 ? { watermark, earlier, events: kept } : { watermark, events: kept };
}
