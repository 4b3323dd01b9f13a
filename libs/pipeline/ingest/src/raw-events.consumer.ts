import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch, ConsumedMessage } from '@seqrec/bus';
import { loadEnv } from '@seqrec/config';
import { GROUPS, TOPICS } from '@seqrec/contracts';
import { BusContext, type BusHandlerExtras } from '@seqrec/nest-platform';
import { EventIngestor, type IngestRecord, type RelayedDeadLetter } from './event-ingestor';
import type { Failpoints } from './failpoints';
import { INGEST_FAILPOINTS, INGEST_METRICS } from './ingest.constants';
import { ingestEnv } from './ingest.env';
import { countOutcomes, type IngestMetrics } from './ingest.metrics';

/**
 * The raw consumer's subscription options. Decorator arguments are fixed when this module loads, so
 * INGEST_EXACTLY_ONCE is parsed here with the same spec the start-up validation uses (`0`, `f`,
 * `false`... all mean off), from `env` or else the process environment; an invalid value stops
 * the service at start-up before this matters.
 */
export function rawConsumerExtras(env?: NodeJS.ProcessEnv): BusHandlerExtras {
  let transactional = true;
  try {
    transactional = loadEnv({ INGEST_EXACTLY_ONCE: ingestEnv.INGEST_EXACTLY_ONCE }, env).INGEST_EXACTLY_ONCE;
  } catch {
    // reported by the start-up validation
  }
  // A message that keeps failing (not a validation failure: those are dead letters already) is
  // dead-lettered after 5 tries instead of stopping the partition.
  return { group: GROUPS.INGESTER, transactional, deadLetterTopic: TOPICS.EVENTS_DLQ };
}

const EXTRAS = rawConsumerExtras();

/** Header of a raw message published by `POST /v1/events`: the HTTP attempt that claims its event id. */
export const CLAIM_HEADER = 'seqrec-claim';
/**
 * Header of a raw message published by `POST /v1/events` for a rejected element: the message is its
 * dead letter, and this its claim id (`deadLetterClaimId`); relayed to the DLQ once per claim.
 */
export const DEAD_LETTER_HEADER = 'seqrec-dead-letter';
/** Header of a raw message published by `POST /v1/events`: when the ingester received it (epoch ms). */
export const RECEIVED_AT_HEADER = 'seqrec-received-at';

/**
 * Consumes the raw clickstream. With INGEST_EXACTLY_ONCE (default) accepted events and dead letters
 * are published in the same transaction that commits the raw offsets: a crash re-runs the batch and
 * publishes nothing twice. Without it, a crash between publishing and committing republishes that
 * batch (at-least-once) in exchange for lower latency.
 *
 * An event id is claimed for the message's own identity: its position (`k:<partition>:<offset>`),
 * or for a message `POST /v1/events` published, the HTTP attempt in its `seqrec-claim` header, the
 * source that attempt claimed (or will claim) the id with. A redelivery is recognised as ours; a
 * second copy (a producer's retry) is a duplicate and dropped. Once the transaction committed, the
 * claims are marked published, so a replay of the raw topic (offsets reset) publishes nothing again. `ts` is checked against the time the
 * message reached Kafka (its timestamp, or the HTTP receipt time, never later than now), so a
 * redelivery is judged as its first delivery was.
 */
@Controller()
export class RawEventsConsumer {
  constructor(
    private readonly ingestor: EventIngestor,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
    @Inject(INGEST_FAILPOINTS) private readonly failpoints: Failpoints,
  ) {}

  @EventPattern(TOPICS.CLICKSTREAM_RAW, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch, @Ctx() ctx: BusContext): Promise<void> {
    const end = this.metrics.batchDuration.startTimer({ source: 'kafka' });
    const now = Date.now();
    const records: IngestRecord[] = [];
    const fromHttp: boolean[] = [];
    const letters: RelayedDeadLetter[] = [];
    for (const m of batch.messages) {
      const letter = relayedDeadLetter(m);
      if (letter) {
        letters.push(letter);
        continue;
      }
      records.push(rawRecord(m, now));
      fromHttp.push(m.headers[CLAIM_HEADER] !== undefined);
    }
    const result = await this.ingestor.ingest(records, now);
    const relayed = letters.length > 0 ? await this.ingestor.relayDeadLetters(letters) : { messages: [], claimed: [], dropped: 0 };
    await this.failpoints.hit('raw.after-claim');
    ctx.publish([...result.messages, ...relayed.messages]);
    // Once committed, the claims are marked published: a replay of this message (the group's
    // offsets moved back) is then a duplicate, not our own redelivery.
    const claimed = [...result.claimed, ...relayed.claimed];
    if (claimed.length > 0) ctx.afterCommit(() => this.ingestor.markPublished(claimed));
    if (relayed.dropped > 0) this.metrics.deadLettersRepeated.inc(relayed.dropped);
    // An event POST /v1/events relayed through the raw topic was counted (source http) when it was
    // answered; counting it again here would count every HTTP event twice.
    countOutcomes(this.metrics, 'kafka', result.outcomes.filter((_, i) => !fromHttp[i]));
    end();
  }
}

/**
 * The dead letter a raw message relays, when `POST /v1/events` published it (an HTTP attempt's
 * claim and a dead-letter claim id); anything else is an event to validate.
 */
export function relayedDeadLetter(m: ConsumedMessage): RelayedDeadLetter | undefined {
  const claimId = m.headers[DEAD_LETTER_HEADER];
  const source = m.headers[CLAIM_HEADER];
  if (claimId === undefined || source === undefined || !source.startsWith('h:') || !claimId.startsWith('dead-letter:')) return undefined;
  return { claimId, source, key: m.key ? m.key.toString('utf8') : null, value: m.value ?? Buffer.alloc(0) };
}

/** The ingest record of one raw message. */
export function rawRecord(m: ConsumedMessage, now: number): IngestRecord {
  const claim = m.headers[CLAIM_HEADER];
  let receivedAt = m.timestamp > 0 && m.timestamp < now ? m.timestamp : now;
  const stamped = Number(m.headers[RECEIVED_AT_HEADER]);
  if (stamped > 0 && stamped < receivedAt) receivedAt = stamped;
  return {
    payload: m.value ?? Buffer.alloc(0),
    source: { kind: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset },
    claimSource: claim !== undefined && claim.startsWith('h:') ? claim : `k:${m.partition}:${m.offset}`,
    receivedAt,
    key: m.key ? m.key.toString('utf8') : null,
  };
}
