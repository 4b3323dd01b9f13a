import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, HttpException, HttpStatus, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Bus, OutboundMessage } from '@seqrec/bus';
import { RejectReason, TOPICS, eventKey, splitJsonArray } from '@seqrec/contracts';
import { BUS, requestCredentialId } from '@seqrec/nest-platform';
import { PublishAdmission, PublishTimeoutError, type Refusal } from './admission';
import { EventIngestor, deadLetterClaimId, type IngestOutcome } from './event-ingestor';
import type { Failpoints } from './failpoints';
import { INGEST_ADMISSION, INGEST_FAILPOINTS, INGEST_METRICS, INGEST_OPTIONS } from './ingest.constants';
import { countOutcomes, type IngestMetrics } from './ingest.metrics';
import { CLAIM_HEADER, DEAD_LETTER_HEADER, RECEIVED_AT_HEADER } from './raw-events.consumer';

export interface IngestHttpOptions {
  maxEventsPerRequest: number;
  claimTimeoutMs: number;
  retryAfterSeconds: number;
}

export interface EventResult {
  index: number;
  eventId?: string;
  status: IngestOutcome['status'];
  reason?: string;
  field?: string;
  detail?: string;
}

export interface IngestResponse {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: EventResult[];
}

/** What a 503 says, by cause. */
const UNAVAILABLE: Record<Refusal | 'publish_timeout' | 'publish_failed' | 'internal', string> = {
  full: 'the ingester is at its in-flight limit (INGEST_MAX_IN_FLIGHT_BYTES)',
  bus_unavailable: 'the ingester is not connected to Kafka',
  bus_stalled: 'Kafka is not acknowledging events',
  publish_timeout: 'Kafka did not acknowledge the events in time',
  publish_failed: 'Kafka refused the events',
  internal: 'the request failed inside the ingester',
};

/**
 * `POST /v1/events`: a JSON array of raw events, under the protocol of docs/ingest-protocol.md.
 *
 * Each element is validated on its own bytes (a bad one is rejected with its reason and field, and
 * dead-lettered, the others go on). The valid ones are published, as they came, to the raw topic
 * with the attempt that claims them (`seqrec-claim`); once Kafka acknowledged them their event ids
 * are claimed, which tells which ones an earlier attempt already brought in (`duplicate`). The raw
 * consumer turns the raw messages into events exactly once per event id (its Kafka transactions
 * and the claims), so a retry of the same events after any failure neither loses nor duplicates.
 * A rejected element's dead letter takes the same way (`seqrec-dead-letter`: its claim, per
 * producer and element bytes), so a retry does not dead-letter it again.
 *
 * Answers: 200 when at least one event was accepted or a duplicate; 400 naming the field when the
 * body is not an array of 1 to INGEST_MAX_EVENTS_PER_REQUEST elements or every element was
 * rejected; 413 above INGEST_MAX_BODY_BYTES (fastify); 415 for a body that is not application/json;
 * 503 + Retry-After when the events could not be made durable (full, Kafka down or slow, an
 * internal failure): retry the same request.
 */
@Controller('v1/events')
export class IngestController {
  private readonly log = new Logger(IngestController.name);

  constructor(
    private readonly ingestor: EventIngestor,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(INGEST_OPTIONS) private readonly options: IngestHttpOptions,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
    @Inject(INGEST_ADMISSION) private readonly admission: PublishAdmission,
    @Inject(INGEST_FAILPOINTS) private readonly failpoints: Failpoints,
  ) {
    // every reason exported from the start, at 0: a rate() over it works before the first refusal
    for (const reason of Object.keys(UNAVAILABLE)) this.metrics.shed.inc({ reason }, 0);
  }

  @Post()
  @HttpCode(200)
  async ingest(@Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<IngestResponse> {
    const now = Date.now();
    if (!Buffer.isBuffer(body)) {
      throw new HttpException(
        { statusCode: 415, error: 'Unsupported Media Type', reason: 'content_type', field: 'content-type', message: 'content-type: send a JSON array of events as application/json' },
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      );
    }
    const split = splitJsonArray(body);
    if (!split.ok) throw badRequest(split.notAnArray ? 'not_an_array' : RejectReason.InvalidJson, `body: ${split.notAnArray ? 'expected a JSON array of events' : 'not valid JSON'}: ${split.detail}`);
    const n = split.elements.length;
    if (n === 0 || n > this.options.maxEventsPerRequest) {
      throw badRequest('batch_size', `body: expected 1 to ${this.options.maxEventsPerRequest} events, got ${n}`);
    }
    const refusal = this.admission.refusal(body.length, this.bus.isReady());
    if (refusal) throw this.unavailable(reply, refusal);

    const end = this.metrics.batchDuration.startTimer({ source: 'http' });
    const requestId = randomUUID();
    const records = split.elements.map(([from, to], index) => ({
      payload: body.subarray(from, to),
      source: { kind: 'http' as const, requestId, index },
      claimSource: `h:${requestId}:${index}`,
    }));
    const validated = this.ingestor.validate(records, now);
    const messages: OutboundMessage[] = [];
    const claims: Array<{ eventId: string; source: string }> = [];
    const received = String(now);
    const producer = requestCredentialId(request);
    for (let i = 0; i < n; i++) {
      const v = validated[i]!;
      const source = records[i]!.claimSource;
      if (!v.ok) {
        messages.push({
          topic: TOPICS.CLICKSTREAM_RAW,
          key: v.letter.key,
          value: v.letter.value,
          headers: { [CLAIM_HEADER]: source, [DEAD_LETTER_HEADER]: deadLetterClaimId(producer, records[i]!.payload) },
        });
        continue;
      }
      claims.push({ eventId: v.event.eventId, source });
      messages.push({
        topic: TOPICS.CLICKSTREAM_RAW,
        key: eventKey(v.event),
        // pseudonymising: the raw topic gets the normalised event with the pseudonym, never the raw id
        value: this.ingestor.options.pseudonymize ? JSON.stringify(v.event) : records[i]!.payload,
        headers: { [CLAIM_HEADER]: source, [RECEIVED_AT_HEADER]: received },
      });
    }

    let granted: boolean[] | undefined;
    let published = false;
    try {
      await this.admission.publish(body.length, () => this.publish(messages));
      published = true;
      await this.failpoints.hit('http.after-publish');
      granted = await this.claimWithin(claims);
      await this.failpoints.hit('http.before-answer');
    } catch (err) {
      const cause = err instanceof PublishTimeoutError ? 'publish_timeout' : published ? 'internal' : 'publish_failed';
      this.log.warn(`POST /v1/events ${requestId}: ${UNAVAILABLE[cause]}: ${(err as Error).message}`);
      throw this.unavailable(reply, cause);
    }

    const outcomes: IngestOutcome[] = new Array(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = validated[i]!;
      if (!v.ok) outcomes[i] = { status: 'rejected', rejection: v.rejection, ...(v.eventId ? { eventId: v.eventId } : {}) };
      else if (!granted || granted[k++]) outcomes[i] = { status: 'accepted', event: v.event };
      else outcomes[i] = { status: 'duplicate', eventId: v.event.eventId };
    }
    countOutcomes(this.metrics, 'http', outcomes);
    end();
    const res = summarize(outcomes);
    if (res.accepted + res.duplicates === 0) {
      const first = res.results[0]!;
      const field = `/${first.index}${first.field ?? ''}`;
      throw new HttpException(
        { statusCode: 400, error: 'Bad Request', reason: first.reason, field, message: `${field}: ${first.detail}`, ...res },
        HttpStatus.BAD_REQUEST,
      );
    }
    return res;
  }

  /** Publishes, or (failpoint `http.partial-publish`) publishes the first half and fails. */
  private async publish(messages: OutboundMessage[]): Promise<void> {
    if (this.failpoints.fires('http.partial-publish')) {
      await this.bus.publish(messages.slice(0, Math.ceil(messages.length / 2)));
      throw new Error('failpoint http.partial-publish');
    }
    await this.bus.publish(messages);
  }

  /**
   * The claims, or `undefined` when the claim store does not answer in time: the events are durable
   * on the raw topic either way (the raw consumer claims them), only the accepted/duplicate split of
   * the answer is unknown, and they are answered as accepted.
   */
  private async claimWithin(claims: Array<{ eventId: string; source: string }>): Promise<boolean[] | undefined> {
    if (claims.length === 0) return [];
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.options.claimTimeoutMs)));
    const claimed = this.ingestor.claim(claims, 'answer').catch((err: Error) => {
      this.log.warn(`de-duplication claims failed, events answered as accepted: ${err.message}`);
      return undefined;
    });
    try {
      const granted = await Promise.race([claimed, late]);
      if (!granted) this.metrics.claimsUnknown.inc(claims.length);
      return granted;
    } finally {
      clearTimeout(timer);
    }
  }

  private unavailable(reply: FastifyReply, cause: keyof typeof UNAVAILABLE): HttpException {
    this.metrics.shed.inc({ reason: cause });
    reply.header('Retry-After', String(this.options.retryAfterSeconds));
    return new HttpException(
      { statusCode: 503, error: 'Service Unavailable', reason: cause, message: `events not accepted: ${UNAVAILABLE[cause]}; retry the same request (it is safe)` },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}

function badRequest(reason: string, message: string): HttpException {
  return new HttpException({ statusCode: 400, error: 'Bad Request', reason, field: 'body', message }, HttpStatus.BAD_REQUEST);
}

function summarize(outcomes: IngestOutcome[]): IngestResponse {
  const res: IngestResponse = { accepted: 0, duplicates: 0, rejected: 0, results: [] };
  outcomes.forEach((o, index) => {
    if (o.status === 'accepted') {
      res.accepted++;
      res.results.push({ index, eventId: o.event.eventId, status: 'accepted' });
    } else if (o.status === 'duplicate') {
      res.duplicates++;
      res.results.push({ index, eventId: o.eventId, status: 'duplicate' });
    } else {
      res.rejected++;
      res.results.push({
        index,
        ...(o.eventId ? { eventId: o.eventId } : {}),
        status: 'rejected',
        reason: o.rejection.reason,
        ...(o.rejection.field ? { field: o.rejection.field } : {}),
        detail: o.rejection.detail,
      });
    }
  });
  return res;
}
