import { createHash } from 'node:crypto';
import {
  TOPICS,
  eventKey,
  boundedLetter,
  originalPayload,
  parseEvent,
  type DeadLetterSource,
  type DeadLetterV1,
  type EventV1,
  type NormalizeOptions,
  type Rejection,
} from '@seqrec/contracts';
import type { OutboundMessage } from '@seqrec/bus';
import type { ClaimPurpose, EventClaims } from '@seqrec/window';

/** One input to ingest: the bytes of one raw event (a raw topic message, or one element of an HTTP body). */
export interface IngestRecord {
  payload: Buffer;
  /** Where it came from, for the dead-letter record. */
  source: DeadLetterSource;
  /**
   * Who claims its event id: the same on every delivery of the same message (`k:<partition>:<offset>`,
   * or the HTTP attempt `h:<requestId>:<index>` the message carries), different for a producer's retry.
   */
  claimSource: string;
  /** The time its `ts` is checked against (default: the call's `now`). */
  receivedAt?: number;
  /** Dead-letter key when the payload has no usable user id (the raw message's key). */
  key?: string | null;
}

export type Validated = { ok: true; event: EventV1 } | { ok: false; rejection: Rejection; eventId?: string; letter: OutboundMessage };

export type IngestOutcome =
  | { status: 'accepted'; event: EventV1 }
  | { status: 'duplicate'; eventId: string }
  | { status: 'rejected'; rejection: Rejection; eventId?: string };

export interface IngestResult {
  outcomes: IngestOutcome[];
  /** Accepted events for the events topic and dead letters for the DLQ, in input order. */
  messages: OutboundMessage[];
  /** The claims of the accepted events: to be marked published once `messages` are committed. */
  claimed: Array<{ eventId: string; source: string }>;
}

/**
 * A dead letter `POST /v1/events` relayed through the raw topic (its value is the letter), to be
 * published once per claim id: see {@link deadLetterClaimId}.
 */
export interface RelayedDeadLetter {
  claimId: string;
  /** The HTTP attempt that relayed it (`h:<requestId>:<index>`). */
  source: string;
  key: string | null;
  value: Buffer;
}

/**
 * The claim of a rejected HTTP element's dead letter: one per producer (its credential id, `''`
 * when the route is open) and element bytes, so a client's retry of the same request dead-letters
 * nothing again within INGEST_DEDUP_TTL_SECONDS. Longer than any eventId (141 > MAX_ID_LENGTH), so it
 * shares the event claims' store without ever meeting an event's claim.
 */
export function deadLetterClaimId(producer: string, element: Buffer): string {
  const who = createHash('sha256').update(producer).digest('hex');
  const what = createHash('sha256').update(element).digest('hex');
  return `dead-letter:${who}:${what}`;
}

export interface IngestorOptions {
  normalize: NormalizeOptions;
  dedupTtlMs: number;
  /** Largest original payload a dead letter keeps whole (INGEST_DLQ_MAX_ORIGINAL_BYTES). */
  maxDeadLetterOriginalBytes?: number;
  /**
   * Pseudonymisation at the edge (PRIVACY_PSEUDONYMIZE, docs/privacy.md): every accepted event's
   * user id and every dead letter's is replaced by this, and a dead letter keeps none of the
   * original bytes (only their length and SHA-256: the bytes hold the raw id).
   */
  pseudonymize?: (userId: string) => string;
}

/**
 * Validates, normalises and de-duplicates raw events and turns them into messages: accepted events
 * for the events topic (keyed by user id), rejected inputs for the dead-letter topic with their
 * (bounded) original payload and reason. Never throws for bad input; throws only when the claim
 * store fails (retriable: nothing was published).
 */
export class EventIngestor {
  constructor(
    private readonly claims: EventClaims,
    readonly options: IngestorOptions,
  ) {}

  /** Validates every record; a rejected one comes with its dead letter. */
  validate(records: IngestRecord[], now: number = Date.now()): Validated[] {
    const out = new Array<Validated>(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const v = parseEvent(r.payload, this.options.normalize, r.receivedAt ?? now);
      const pseudonymize = this.options.pseudonymize;
      if (v.ok) {
        if (pseudonymize && v.event.userId !== undefined) v.event.userId = pseudonymize(v.event.userId);
        out[i] = v;
        continue;
      }
      if (pseudonymize && v.ids?.userId !== undefined) v.ids.userId = pseudonymize(v.ids.userId);
      const letter: DeadLetterV1 = boundedLetter({
        reason: v.rejection.reason,
        ...(v.rejection.field ? { field: v.rejection.field } : {}),
        detail: v.rejection.detail,
        source: r.source,
        rejectedAt: now,
        ...originalPayload(r.payload, pseudonymize ? 0 : this.options.maxDeadLetterOriginalBytes),
        ...v.ids,
      });
      out[i] = {
        ok: false,
        rejection: v.rejection,
        ...(v.ids?.eventId ? { eventId: v.ids.eventId } : {}),
        letter: { topic: TOPICS.EVENTS_DLQ, key: v.ids?.userId ?? v.ids?.sessionId ?? r.key ?? null, value: JSON.stringify(letter) },
      };
    }
    return out;
  }

  /**
   * Claims the event ids of `events` for their sources (see {@link EventClaims.claim}): for
   * `publish`, `true` means the event is to be published; for `answer` (the HTTP path), that the
   * attempt owns it.
   */
  claim(claims: Array<{ eventId: string; source: string }>, purpose: ClaimPurpose = 'publish'): Promise<boolean[]> {
    return this.claims.claim(claims, this.options.dedupTtlMs, purpose);
  }

  /** Marks the claims of published events (call once their transaction committed). */
  markPublished(claims: Array<{ eventId: string; source: string }>): Promise<void> {
    return this.claims.markPublished(claims);
  }

  /**
   * Dead letters relayed by `POST /v1/events`: each is published (to the DLQ) only when its
   * attempt holds the claim of its id, exactly as an event is (docs/ingest-protocol.md).
   */
  async relayDeadLetters(letters: RelayedDeadLetter[]): Promise<Pick<IngestResult, 'messages' | 'claimed'> & { dropped: number }> {
    const claims = letters.map((l) => ({ eventId: l.claimId, source: l.source }));
    const granted = await this.claim(claims);
    const messages: OutboundMessage[] = [];
    const claimed: Array<{ eventId: string; source: string }> = [];
    letters.forEach((l, i) => {
      if (!granted[i]) return;
      claimed.push(claims[i]!);
      messages.push({ topic: TOPICS.EVENTS_DLQ, key: l.key, value: l.value });
    });
    return { messages, claimed, dropped: letters.length - messages.length };
  }

  /** The raw topic's path: validate, claim, and the messages to publish with the batch's offsets. */
  async ingest(records: IngestRecord[], now: number = Date.now()): Promise<IngestResult> {
    const validated = this.validate(records, now);
    const claims: Array<{ eventId: string; source: string }> = [];
    for (let i = 0; i < validated.length; i++) {
      const v = validated[i]!;
      if (v.ok) claims.push({ eventId: v.event.eventId, source: records[i]!.claimSource });
    }
    const granted = await this.claim(claims);
    const outcomes = new Array<IngestOutcome>(validated.length);
    const messages: OutboundMessage[] = [];
    const claimed: Array<{ eventId: string; source: string }> = [];
    let k = 0;
    for (let i = 0; i < validated.length; i++) {
      const v = validated[i]!;
      if (!v.ok) {
        outcomes[i] = { status: 'rejected', rejection: v.rejection, ...(v.eventId ? { eventId: v.eventId } : {}) };
        messages.push(v.letter);
      } else if (granted[k]) {
        claimed.push(claims[k++]!);
        outcomes[i] = { status: 'accepted', event: v.event };
        messages.push({ topic: TOPICS.EVENTS, key: eventKey(v.event), value: JSON.stringify(v.event) });
      } else {
        k++;
        outcomes[i] = { status: 'duplicate', eventId: v.event.eventId };
      }
    }
    return { outcomes, messages, claimed };
  }
}
