/**
 * Load under faults: seeded synthetic clickstream, published to the raw topic by a producer that
 * resends a batch until Kafka acknowledges it, or POSTed to the ingester by clients that retry the
 * way careful producers do (the same body, so the same eventIds, after any failure: no answer, a
 * timeout, 5xx, 503, 429, 408), and record what they were told about each event.
 */
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { RawEvent } from '@seqrec/contracts';
import { ClickstreamGenerator, recordToMessage, type GeneratedRecord } from '@seqrec/generator';
import { testKafka } from '@seqrec/kafka/testing';
import { sleep } from './config';

/** A valid event as a client sends it (ts in epoch ms). */
export interface LoadEvent {
  eventId: string;
  userId: string;
  type: RawEvent['type'];
  itemId?: string;
  query?: string;
  ts: number;
  context?: Record<string, unknown>;
}

export interface SourceOptions {
  seed: number;
  /** Most events the scenario may take: sizes the user population (about 15 events per user). */
  maxEvents: number;
  items?: number;
  /** Share of records that resend an earlier event (same eventId): producer retries on the raw path. */
  duplicateRate?: number;
  /** Share of malformed payloads (raw path: each must become a dead letter, none an event). */
  malformedRate?: number;
  /** Item ids to map the generator's items onto (e.g. a model's vocabulary); default the generator's own. */
  itemIds?: string[];
}

/** A seeded clickstream, taken in slices. Timestamps are in the past (the ingester rejects the future). */
export class EventSource {
  private readonly gen: ClickstreamGenerator;
  private readonly now = Date.now();
  private readonly itemIds?: string[];
  private readonly itemMap = new Map<string, string>();
  taken = 0;

  constructor(o: SourceOptions) {
    this.gen = new ClickstreamGenerator({
      seed: o.seed,
      users: Math.max(20, Math.ceil(o.maxEvents / 15)),
      items: o.items ?? 2_000,
      duplicateRate: o.duplicateRate ?? 0,
      malformedRate: o.malformedRate ?? 0,
      // only what is rejected for its content: never a payload the HTTP path answers with a 4xx for the whole request
      malformedKinds: ['invalid_json', 'missing_user_id', 'unknown_type', 'missing_item_id', 'invalid_timestamp', 'timestamp_out_of_range'],
      startTime: this.now - 20 * 86_400_000,
      idPrefix: `f${o.seed.toString(36)}`,
    });
    if (o.itemIds) this.itemIds = o.itemIds;
  }

  private mapItem(id: string): string {
    if (!this.itemIds) return id;
    let m = this.itemMap.get(id);
    if (m === undefined) this.itemMap.set(id, (m = this.itemIds[this.itemMap.size % this.itemIds.length]!));
    return m;
  }

  /** The next `n` records (clean, late, duplicates and malformed ones, as configured). */
  records(n: number): GeneratedRecord[] {
    const out: GeneratedRecord[] = [];
    for (const r of this.gen.takeRecords(n)) {
      if (r.kind !== 'malformed') {
        const e = { ...r.event, ts: typeof r.event.ts === 'number' ? r.event.ts : Date.parse(r.event.ts) };
        if (e.ts > this.now) throw new Error(`the generator's clock passed now (${new Date(e.ts).toISOString()}): raise startTime's distance`);
        if (e.itemId !== undefined) e.itemId = this.mapItem(e.itemId);
        out.push({ ...r, event: e } as GeneratedRecord);
      } else out.push(r);
    }
    this.taken += out.length;
    return out;
  }

  /** The next `n` valid, distinct events. */
  events(n: number): LoadEvent[] {
    return this.records(n)
      .filter((r) => r.kind === 'event' || r.kind === 'late')
      .map((r) => (r as { event: LoadEvent }).event);
  }
}

/** The events a stream of records must yield: valid ones, first occurrence of each eventId. */
export function uniqueValid(records: GeneratedRecord[]): LoadEvent[] {
  const seen = new Set<string>();
  const out: LoadEvent[] = [];
  for (const r of records) {
    if (r.kind === 'malformed') continue;
    const e = r.event as LoadEvent;
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    out.push(e);
  }
  return out;
}

export interface RawLoadOptions {
  /** Records per second. */
  rate: number;
  /** Records per send. */
  batch?: number;
}

/**
 * Publishes records to the raw topic at a fixed rate until stopped. A send that fails (broker down,
 * paused) is repeated with the same messages until it is acknowledged: duplicates on the raw topic
 * are producer retries the ingester must drop.
 */
export class RawLoad {
  readonly sent: GeneratedRecord[] = [];
  failedSends = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private producer: KafkaJS.Producer | undefined;

  constructor(
    private readonly brokers: string[],
    private readonly topic: string,
    private readonly source: EventSource,
    private readonly o: RawLoadOptions,
  ) {}

  async start(): Promise<this> {
    this.producer = await this.newProducer();
    this.loop = this.run();
    return this;
  }

  private async newProducer(): Promise<KafkaJS.Producer> {
    const producer = testKafka('seqrec-faults-producer', this.brokers).producer({
      kafkaJS: { idempotent: true, acks: -1 },
      'message.timeout.ms': 20_000,
      'linger.ms': 5,
    } as never);
    await producer.connect();
    return producer;
  }

  /** Publishes `n` records at once (outside the rate), e.g. a final round. */
  async publish(records: GeneratedRecord[]): Promise<void> {
    await this.sendUntilAcked(records);
    this.sent.push(...records);
  }

  /**
   * Repeats the send until it is acknowledged. After three failures in a row (a minute) the
   * producer is replaced, as a producer application would be restarted: once a paused broker came
   * back fenced, the idempotent producer's sends could keep failing for good, and this load then
   * never stopped.
   */
  private async sendUntilAcked(records: GeneratedRecord[]): Promise<void> {
    const messages = records.map(recordToMessage);
    for (let failures = 0; ; ) {
      try {
        await this.producer!.send({ topic: this.topic, messages });
        return;
      } catch {
        this.failedSends++;
        if (++failures % 3 === 0) {
          const old = this.producer;
          void old?.disconnect().catch(() => undefined);
          this.producer = await this.newProducer().catch(() => old);
        }
        await sleep(250);
      }
    }
  }

  private async run(): Promise<void> {
    const batch = this.o.batch ?? Math.max(1, Math.round(this.o.rate / 10));
    const interval = (batch / this.o.rate) * 1000;
    let next = Date.now();
    while (!this.stopped) {
      const records = this.source.records(batch);
      await this.sendUntilAcked(records);
      this.sent.push(...records);
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now(); // behind (broker down): no burst to catch up
    }
  }

  /** Stops after the batch in flight is acknowledged. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.producer?.disconnect();
  }
}

export type Told = 'accepted' | 'duplicate' | 'rejected' | 'undelivered';

export interface HttpLoadOptions {
  /** Concurrent clients. */
  clients: number;
  /** Events per request. */
  batch: number;
  /** Events per second offered (new batches; retries come on top). */
  rate: number;
  /** A request without an answer after this long is abandoned and retried (the first may still be in flight). */
  requestTimeoutMs?: number;
  /** A client gives up on a batch after this long (must stay inside INGEST_DEDUP_TTL_SECONDS). */
  giveUpMs?: number;
}

/**
 * Clients POSTing batches to `/v1/events` of whichever ingester `url()` names now. A batch is resent
 * (same body) after any failure until an answer says what became of each event; the final answer
 * per event is recorded in `told`.
 */
export class HttpLoad {
  /** What the final answer said about each event. */
  readonly told = new Map<string, Told>();
  /** Events the clients were told were accepted or duplicates (i.e. the ingester has them), in answer order. */
  readonly delivered: LoadEvent[] = [];
  /** Answers by HTTP status (or `network` / `timeout`), every attempt. */
  readonly statuses = new Map<string, number>();
  requests = 0;
  retries = 0;
  /** Requests sent and not answered yet. */
  inFlight = 0;
  private stopped = false;
  private clients: Promise<void>[] = [];
  private nextBatch = 0;
  private t0 = 0;

  constructor(
    private readonly url: () => string,
    private readonly next: (n: number) => LoadEvent[] | undefined,
    private readonly o: HttpLoadOptions,
  ) {}

  start(): this {
    this.t0 = Date.now();
    for (let c = 0; c < this.o.clients; c++) this.clients.push(this.client());
    return this;
  }

  /** Stops taking new batches and waits until every batch taken has its answer. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.clients);
  }

  private count(status: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  private async client(): Promise<void> {
    const interval = (this.o.batch / this.o.rate) * 1000;
    while (!this.stopped) {
      const k = this.nextBatch++;
      const wait = this.t0 + k * interval - Date.now();
      if (wait > 0) await sleep(wait);
      if (this.stopped) break;
      const batch = this.next(this.o.batch);
      if (!batch || batch.length === 0) break;
      await this.deliver(batch);
    }
  }

  /** Sends one batch until an answer covers every event (or gives up: `undelivered`). */
  async deliver(batch: LoadEvent[]): Promise<void> {
    const body = JSON.stringify(batch);
    const started = Date.now();
    const giveUp = this.o.giveUpMs ?? 240_000;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.retries++;
      let retryAfterMs = 0;
      try {
        this.requests++;
        this.inFlight++;
        const res = await fetch(`${this.url()}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.o.requestTimeoutMs ?? 10_000),
        }).finally(() => this.inFlight--);
        this.count(String(res.status));
        if (res.status === 200) {
          const answer = (await res.json()) as { results: Array<{ index: number; status: 'accepted' | 'duplicate' | 'rejected' }> };
          batch.forEach((e, i) => {
            const status = answer.results[i]?.status ?? 'rejected';
            this.told.set(e.eventId, status);
            if (status !== 'rejected') this.delivered.push(e);
          });
          return;
        }
        retryAfterMs = Number(res.headers.get('retry-after') ?? 0) * 1000;
        await res.arrayBuffer().catch(() => undefined);
        if (res.status < 500 && res.status !== 429 && res.status !== 408) {
          // a 4xx for a whole batch of valid events: the client cannot fix it by retrying
          for (const e of batch) this.told.set(e.eventId, 'rejected');
          return;
        }
      } catch (err) {
        this.count((err as Error).name === 'TimeoutError' ? 'timeout' : 'network');
      }
      if (Date.now() - started > giveUp) {
        for (const e of batch) this.told.set(e.eventId, 'undelivered');
        return;
      }
      const backoff = Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random());
      await sleep(Math.max(backoff, Math.min(retryAfterMs, 2_000)));
    }
  }

  /** Resolves once a request is in flight (a kill then lands between receiving, claiming, publishing and answering). */
  async inFlightNow(timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.inFlight === 0) {
      if (Date.now() > until) return false;
      await sleep(1);
    }
    return true;
  }

  /** How many events ended in each state. */
  summary(): Record<Told, number> {
    const s: Record<Told, number> = { accepted: 0, duplicate: 0, rejected: 0, undelivered: 0 };
    for (const t of this.told.values()) s[t]++;
    return s;
  }
}
