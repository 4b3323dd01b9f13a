import {
  TOPICS,
  normalizeEvent,
  originalPayload,
  parseEvent,
  type DeadLetterSource,
  type DeadLetterV1,
  type EventV1,
  type NormalizeOptions,
  type Rejection,
} from '@seqrec/contracts';
import type { OutboundMessage } from '@seqrec/bus';
import type { EventClaims } from '@seqrec/sequence';

/** One input to ingest: raw bytes (from the raw topic) or an already parsed JSON value (HTTP). */
export interface IngestRecord {
  payload: Buffer | unknown;
  /** Where it came from, for the dead-letter record. */
  source: DeadLetterSource;
  /** Unique identity of this delivery attempt's origin (same on a redelivery of the same message). */
  claimSource: string;
}

export type IngestOutcome =
  | { status: 'accepted'; event: EventV1 }
  | { status: 'duplicate'; eventId: string }
  | { status: 'rejected'; rejection: Rejection; eventId?: string };

export interface IngestResult {
  outcomes: IngestOutcome[];
  /** Accepted events for the events topic and dead letters for the DLQ, in input order. */
  messages: OutboundMessage[];
  /** Claims taken by this call (released by the caller if publishing fails). */
  claims: Array<{ eventId: string; source: string }>;
}

export interface IngestorOptions {
  normalize: NormalizeOptions;
  dedupTtlMs: number;
}

/**
 * Validates, normalises and de-duplicates raw events and turns them into messages: accepted events
 * for the events topic (keyed by user id), rejected inputs for the dead-letter topic with their
 * original payload and reason. Never throws for bad input; throws only when the claim store fails
 * (retriable: nothing was published).
 */
export class EventIngestor {
  constructor(
    private readonly claims: EventClaims,
    private readonly options: IngestorOptions,
  ) {}

  async ingest(records: IngestRecord[], now: number = Date.now()): Promise<IngestResult> {
    const validated = records.map((r) =>
      Buffer.isBuffer(r.payload) ? parseEvent(r.payload, this.options.normalize) : normalizeEvent(r.payload, this.options.normalize),
    );
    const claims: Array<{ eventId: string; source: string }> = [];
    const claimIndex: number[] = [];
    validated.forEach((v, i) => {
      if (v.ok) {
        claims.push({ eventId: v.event.eventId, source: records[i]!.claimSource });
        claimIndex.push(i);
      }
    });
    const granted = await this.claims.claim(claims, this.options.dedupTtlMs);
    const isDuplicate = new Set<number>();
    granted.forEach((ok, k) => {
      if (!ok) isDuplicate.add(claimIndex[k]!);
    });

    const outcomes: IngestOutcome[] = [];
    const messages: OutboundMessage[] = [];
    validated.forEach((v, i) => {
      const record = records[i]!;
      if (v.ok) {
        if (isDuplicate.has(i)) {
          outcomes.push({ status: 'duplicate', eventId: v.event.eventId });
          return;
        }
        outcomes.push({ status: 'accepted', event: v.event });
        messages.push({ topic: TOPICS.EVENTS, key: v.event.userId, value: JSON.stringify(v.event) });
        return;
      }
      const ids = idsOf(record.payload);
      const letter: DeadLetterV1 = {
        reason: v.rejection.reason,
        ...(v.rejection.field ? { field: v.rejection.field } : {}),
        detail: v.rejection.detail,
        source: record.source,
        rejectedAt: now,
        ...(Buffer.isBuffer(record.payload) ? originalPayload(record.payload) : { original: safeStringify(record.payload) }),
        ...ids,
      };
      outcomes.push({ status: 'rejected', rejection: v.rejection, ...(ids.eventId ? { eventId: ids.eventId } : {}) });
      messages.push({ topic: TOPICS.EVENTS_DLQ, key: ids.userId ?? null, value: JSON.stringify(letter) });
    });
    return { outcomes, messages, claims: claims.filter((_, k) => granted[k]) };
  }

  /** Gives claims back after a failed publish, so the producer's retry is not taken for a duplicate. */
  async releaseQuietly(claims: Array<{ eventId: string; source: string }>): Promise<void> {
    await this.claims.release(claims).catch(() => undefined);
  }
}

/** Best-effort ids of an invalid payload, so dead letters can be traced to a producer's event. */
function idsOf(payload: unknown): { eventId?: string; userId?: string } {
  let obj: unknown = payload;
  if (Buffer.isBuffer(payload)) {
    try {
      obj = JSON.parse(payload.toString('utf8'));
    } catch {
      return {};
    }
  }
  if (typeof obj !== 'object' || obj === null) return {};
  const { eventId, userId } = obj as Record<string, unknown>;
  const out: { eventId?: string; userId?: string } = {};
  if (typeof eventId === 'string' && eventId.length > 0 && eventId.length <= 256) out.eventId = eventId;
  if (typeof userId === 'string' && userId.length > 0 && userId.length <= 256) out.userId = userId;
  return out;
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
