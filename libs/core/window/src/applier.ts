import { EVENT_TYPE_CODE, EVENT_TYPES, type EventV1 } from '@seqrec/contracts';
import { CodecError, decodeWindow, encodeWindow, type SequenceWindow } from './codec';
import type { ItemDictionary, SequenceStore, WindowWrite } from './stores';
import { applyEvents, sessionsOf, type IncomingEvent } from './window';
import { SeqrecError } from '@seqrec/contracts';

export interface ApplierOptions {
  /** Events kept per user (the window length N). */
  capacity: number;
  /** Inactivity gap that starts a new session, ms. */
  sessionGapMs: number;
  /** Compare-and-set retries per batch before giving up (a retriable error). */
  maxConflictRetries?: number;
}

export interface PositionedEvent {
  partition: number;
  offset: number;
  event: EventV1;
}

export interface ApplyBatchResult {
  users: number;
  applied: number;
  stale: number;
  tooLate: number;
  conflicts: number;
  /** One per user whose window changed: the window as written (the window codec's bytes). */
  updates: Array<{ userId: string; window: Buffer; applied: number }>;
  /**
   * Stored windows that could not be decoded and were replaced by a window rebuilt from this
   * batch's events (the lost history stays on the events topic): the corrupt bytes and why.
   */
  corrupt: Array<{ userId: string; window: Buffer; detail: string }>;
}

export class ConflictError extends SeqrecError {
  constructor(readonly userIds: string[]) {
    super(`windows of ${userIds.length} users kept changing under us (first: ${userIds[0]})`, { retriable: true, context: { users: userIds.length, firstUserId: userIds[0] } });
    this.name = 'ConflictError';
  }
}

/**
 * Applies a batch of events (from one partition) to users' windows: one read of all touched windows,
 * one conditional write per user, re-read and recompute for users whose window changed meanwhile
 * (another builder after a rebalance). Idempotent through the windows' watermarks. A stored window
 * that does not decode is replaced (compare-and-set on its exact bytes) by one built from the
 * batch's events and reported in `corrupt`: never an error that would stop the partition.
 */
export class SequenceApplier {
  constructor(
    private readonly store: SequenceStore,
    private readonly items: ItemDictionary,
    private readonly options: ApplierOptions,
  ) {}

  async apply(batch: PositionedEvent[]): Promise<ApplyBatchResult> {
    const byUser = new Map<string, IncomingEvent[]>();
    const itemIds = new Set<string>();
    for (const { event } of batch) if (event.itemId !== undefined) itemIds.add(event.itemId);
    const ids = [...itemIds];
    const indices = await this.items.indicesOf(ids);
    const indexOf = new Map(ids.map((id, i) => [id, indices[i]!]));
    for (const { partition, offset, event } of batch) {
      let list = byUser.get(event.userId);
      if (!list) byUser.set(event.userId, (list = []));
      list.push({
        item: event.itemId === undefined ? -1 : indexOf.get(event.itemId)!,
        type: EVENT_TYPE_CODE[event.type],
        ts: event.ts,
        partition,
        offset,
      });
    }

    const result: ApplyBatchResult = { users: byUser.size, applied: 0, stale: 0, tooLate: 0, conflicts: 0, updates: [], corrupt: [] };
    const changed = new Map<string, { window: Buffer; applied: number }>();
    let pending = [...byUser.keys()];
    const retries = this.options.maxConflictRetries ?? 5;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > retries) throw new ConflictError(pending);
      const stored = await this.store.getMany(pending);
      const writes: WindowWrite[] = [];
      const outcomes: Array<{ userId: string; window: Buffer; applied: number; stale: number; tooLate: number; corrupt?: { bytes: Buffer; detail: string } }> = [];
      pending.forEach((userId, k) => {
        const expected = stored[k] ?? null;
        let current: SequenceWindow | null = null;
        let corrupt: string | undefined;
        if (expected) {
          try {
            current = decodeWindow(expected);
          } catch (err) {
            if (!(err instanceof CodecError)) throw err;
            corrupt = err.message;
          }
        }
        const r = applyEvents(current, byUser.get(userId)!, this.options.capacity);
        if (r.applied + r.tooLate === 0 && corrupt === undefined) {
          result.stale += r.stale;
          return;
        }
        const next = encodeWindow(r.window);
        writes.push(corrupt === undefined ? { userId, expected, next } : { userId, expected, next, replace: true });
        outcomes.push({ userId, window: next, applied: r.applied, stale: r.stale, tooLate: r.tooLate, ...(corrupt === undefined ? {} : { corrupt: { bytes: expected!, detail: corrupt } }) });
      });
      const written = await this.store.writeMany(writes);
      const retry: string[] = [];
      written.forEach((outcome, k) => {
        const o = outcomes[k]!;
        if (outcome === 'ok') {
          if (o.corrupt !== undefined) result.corrupt.push({ userId: o.userId, window: o.corrupt.bytes, detail: o.corrupt.detail });
          result.applied += o.applied;
          result.stale += o.stale;
          result.tooLate += o.tooLate;
          if (o.applied > 0) changed.set(o.userId, { window: o.window, applied: o.applied });
        } else {
          result.conflicts++;
          retry.push(o.userId);
        }
      });
      pending = retry;
    }
    result.updates = [...changed].map(([userId, c]) => ({ userId, window: c.window, applied: c.applied }));
    return result;
  }
}

/** Decodes a stored window into the public shape (item ids resolved, sessions numbered). */
export async function describeWindow(
  buf: Buffer,
  items: ItemDictionary,
  sessionGapMs: number,
): Promise<{ watermark: SequenceWindow['watermark']; events: Array<{ itemId: string | null; type: string; ts: number; session: number }> }> {
  const w = decodeWindow(buf);
  const ids = await items.idsOf(w.events.map((e) => Math.max(e.item, 0)));
  const sessions = sessionsOf(w.events, sessionGapMs);
  return {
    watermark: w.watermark,
    events: w.events.map((e, i) => ({
      itemId: e.item >= 0 ? (ids[i] ?? null) : null,
      type: EVENT_TYPES[e.type] ?? `type${e.type}`,
      ts: e.ts,
      session: sessions[i]!,
    })),
  };
}
