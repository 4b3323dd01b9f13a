import type { ConsumedMessage, OutboundMessage } from '@seqrec/bus';
import {
  MAX_ID_LENGTH,
  RejectReason,
  TOPICS,
  boundedLetter,
  encodeItem,
  originalPayload,
  parseItem,
  type DeadLetterSource,
  type ItemV1,
  type Rejection,
} from '@seqrec/contracts';
import type { CatalogueChange } from '@seqrec/window';

/** One item input (an element of `POST /v1/items`, or a message of the items topic) after validation. */
export type CheckedItem = { ok: true; item: ItemV1 } | { ok: false; rejection: Rejection; itemId?: string; letter: OutboundMessage };

/**
 * Validates one item input; a rejected one comes with its dead letter (the events' dead-letter
 * topic, keyed by the item id when it had one). `key`: the message key it must match (topic path).
 */
export function checkItem(payload: Buffer, source: DeadLetterSource, now: number, maxOriginalBytes: number, key?: string | null): CheckedItem {
  let v = parseItem(payload);
  if (v.ok && key !== undefined && key !== v.item.itemId) {
    v = { ok: false, itemId: v.item.itemId, rejection: { reason: RejectReason.InvalidField, field: '/itemId', detail: `/itemId: "${v.item.itemId}" is not the message key "${key ?? ''}"` } };
  }
  if (v.ok) return v;
  const itemId = v.itemId;
  const letter = boundedLetter({
    reason: v.rejection.reason,
    ...(v.rejection.field ? { field: v.rejection.field } : {}),
    detail: v.rejection.detail,
    source,
    rejectedAt: now,
    ...originalPayload(payload, maxOriginalBytes),
    ...(itemId ? { itemId } : {}),
  });
  return { ok: false, rejection: v.rejection, ...(itemId ? { itemId } : {}), letter: { topic: TOPICS.EVENTS_DLQ, key: itemId ?? null, value: JSON.stringify(letter) } };
}

/** Why an item id cannot be used (empty, too long, a lone surrogate), or null when it can. */
export function badItemId(id: string): string | null {
  return badId(id, 'item');
}

/** Why an item or user id (a path parameter) cannot be used, or null when it can. */
export function badId(id: string, what: 'item' | 'user'): string | null {
  if (id.length < 1 || id.length > MAX_ID_LENGTH) return `${what === 'item' ? 'an item' : 'a user'} id has 1 to ${MAX_ID_LENGTH} characters, got ${id.length}`;
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(id)) return `the ${what} id holds a lone UTF-16 surrogate`;
  return null;
}

/** The message that puts an item's whole record on the items topic (keyed by its id). */
export function itemMessage(item: ItemV1): OutboundMessage {
  return { topic: TOPICS.ITEMS, key: item.itemId, value: JSON.stringify(item) };
}

/** The tombstone that deletes an item from the compacted items topic. */
export function itemTombstone(itemId: string): OutboundMessage {
  return { topic: TOPICS.ITEMS, key: itemId, value: null };
}

/**
 * The store changes and dead letters of a batch of the items topic, in order: a record is stored
 * with the message's timestamp as its `updatedAt` (the scorer's view keeps the newer of what it
 * reads from the store and from the topic); a tombstone deletes; a message with no key, or a
 * record that is not a valid item of that key, is dead-lettered with its reason.
 */
export function catalogueBatch(messages: readonly ConsumedMessage[], now: number, maxOriginalBytes: number): { changes: CatalogueChange[]; letters: OutboundMessage[] } {
  const changes: CatalogueChange[] = [];
  const letters: OutboundMessage[] = [];
  for (const m of messages) {
    const key = m.key?.toString('utf8') ?? null;
    const source: DeadLetterSource = { kind: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset };
    if (m.value === null) {
      if (key !== null && badItemId(key) === null) changes.push({ itemId: key, record: null });
      else letters.push(deadKey(source, now));
      continue;
    }
    const v = checkItem(m.value, source, now, maxOriginalBytes, key);
    if (v.ok) changes.push({ itemId: v.item.itemId, record: encodeItem(v.item, m.timestamp > 0 ? m.timestamp : now) });
    else letters.push(v.letter);
  }
  return { changes, letters };
}

/** The dead letter of a tombstone without a usable key. */
function deadKey(source: DeadLetterSource, now: number): OutboundMessage {
  const letter = boundedLetter({ reason: RejectReason.InvalidField, field: 'key', detail: 'a tombstone (null value) must be keyed by the item id it deletes', source, rejectedAt: now });
  return { topic: TOPICS.EVENTS_DLQ, key: null, value: JSON.stringify(letter) };
}
