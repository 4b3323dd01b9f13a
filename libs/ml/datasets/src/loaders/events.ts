import { EVENT_TYPE_CODE, type EventType, type EventV1 } from '@seqrec/contracts';
import type { SequenceDataset } from '../types';
import type { ItemVocabulary } from '../vocabulary';
import { buildDataset } from './build';

export interface FromEventsOptions {
  /** Dataset name. Default `events`. */
  name?: string;
  /** One sequence per user (default) or per (user, session); events without a session id form one session per user. */
  groupBy?: 'user' | 'session';
  /** Keep only these event types (default: every type that carries an item). */
  eventTypes?: readonly EventType[];
  /** Skip an event whose `eventId` was already seen (a redelivery). Default true. */
  dedupe?: boolean;
  /** Map items through this vocabulary (e.g. the serving model's), extending it unless `unknownItems` is 'drop'. */
  vocabulary?: ItemVocabulary;
  unknownItems?: 'add' | 'drop';
  /** Sequences with fewer events are dropped. Default 1. */
  minLength?: number;
  /** Items with fewer events are dropped (iterated with `minLength`). Default 1. */
  minItemCount?: number;
}

/**
 * Builds a `SequenceDataset` from normalised events (what the trainer gets by replaying the events
 * topic). Events without an item (`search`) are skipped. Each sequence is sorted by `ts`, stably:
 * events with the same timestamp keep their input order, which for a replay is the partition's
 * offset order. Items are numbered 1..N in order of first appearance in the output (index 0 is
 * padding) unless a vocabulary is given; event types and timestamps are kept.
 */
export function fromEvents(events: readonly EventV1[], options: FromEventsOptions = {}): SequenceDataset {
  const allowed = options.eventTypes ? new Set<EventType>(options.eventTypes) : null;
  const dedupe = options.dedupe ?? true;
  const bySession = options.groupBy === 'session';
  const seenIds = new Set<string>();
  const groups = new Map<string, number>();
  const groupIds: string[] = [];
  const itemIndex = new Map<string, number>();
  const itemKeys: string[] = [];
  const n = events.length;
  const group = new Int32Array(n);
  const item = new Int32Array(n);
  const type = new Uint8Array(n);
  const ts = new Float64Array(n);
  let k = 0;
  for (const e of events) {
    if (e.itemId === undefined || (allowed && !allowed.has(e.type))) continue;
    if (dedupe) {
      if (seenIds.has(e.eventId)) continue;
      seenIds.add(e.eventId);
    }
    // an anonymous session is a shopper of its own (its merge into a user is a serving-time state)
    const subject = e.userId ?? `session:${e.sessionId}`;
    const key = bySession ? `${subject}\u0000${e.sessionId ?? ''}` : subject;
    let g = groups.get(key);
    if (g === undefined) {
      g = groupIds.length;
      groups.set(key, g);
      groupIds.push(bySession && e.sessionId !== undefined ? `${subject}/${e.sessionId}` : subject);
    }
    let it = itemIndex.get(e.itemId);
    if (it === undefined) {
      it = itemKeys.length;
      itemIndex.set(e.itemId, it);
      itemKeys.push(e.itemId);
    }
    group[k] = g;
    item[k] = it;
    type[k] = EVENT_TYPE_CODE[e.type];
    ts[k] = e.ts;
    k++;
  }
  return buildDataset(
    { n: k, group, groupIds, item, itemKeys, type, ts },
    {
      name: options.name ?? 'events',
      sortByTime: true,
      minLength: options.minLength ?? 1,
      minItemCount: options.minItemCount ?? 1,
      ...(options.vocabulary ? { vocabulary: options.vocabulary, unknownItems: options.unknownItems ?? 'add' } : {}),
    },
  );
}
