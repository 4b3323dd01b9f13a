/**
 * Back-pressure of `POST /v1/events`: bounds the bytes being published (held from the publish call
 * until Kafka acknowledged them or gave up, even after the request was answered), bounds how long a
 * request waits for the acknowledgement, and refuses new requests at once while the bus is not
 * acknowledging (a publish older than the timeout is in flight): with Kafka down, the first requests
 * get their 503 after the timeout and every later one immediately, and the ingester's memory stays
 * bounded by the in-flight budget whatever the offered load.
 */
import { SeqrecError } from '@seqrec/contracts';

export type Refusal = 'full' | 'bus_unavailable' | 'bus_stalled';

export interface AdmissionOptions {
  /** Bytes of request bodies being published, at most (a single body larger than this is still taken when nothing else is in flight). */
  maxInFlightBytes: number;
  /** How long a request waits for Kafka's acknowledgement. */
  publishTimeoutMs: number;
  /**
   * How long the requests wait until Kafka acknowledged a first publish of this process (its
   * producer fetches its id and the topic's metadata on it). Default: 5 × publishTimeoutMs.
   */
  firstPublishTimeoutMs?: number;
}

export class PublishTimeoutError extends SeqrecError {
  constructor(ms: number) {
    super(`Kafka did not acknowledge the events within ${ms} ms`, { retriable: true, context: { timeoutMs: ms } });
    this.name = 'PublishTimeoutError';
  }
}

export class PublishAdmission {
  private inFlight = 0;
  /** Start times of the publishes in flight, oldest first (a Set keeps insertion order). */
  private readonly started = new Set<{ at: number }>();
  /** Kafka acknowledged a publish of this process. */
  private warm = false;

  constructor(
    private readonly options: AdmissionOptions,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Bytes being published now. */
  get inFlightBytes(): number {
    return this.inFlight;
  }

  /** Whether the oldest publish in flight has waited longer than the timeout. */
  stalled(): boolean {
    const oldest = this.started.values().next().value;
    return oldest !== undefined && this.clock() - oldest.at > this.timeoutMs();
  }

  private timeoutMs(): number {
    return this.warm ? this.options.publishTimeoutMs : (this.options.firstPublishTimeoutMs ?? 5 * this.options.publishTimeoutMs);
  }

  /** Why a request of `bytes` cannot be taken now, or undefined when it can. */
  refusal(bytes: number, busReady: boolean): Refusal | undefined {
    if (!busReady) return 'bus_unavailable';
    if (this.stalled()) return 'bus_stalled';
    if (this.inFlight > 0 && this.inFlight + bytes > this.options.maxInFlightBytes) return 'full';
    return undefined;
  }

  /**
   * Runs `publish`, holding `bytes` of the budget until it settles. Resolves when it was
   * acknowledged; rejects with its error, or with {@link PublishTimeoutError} after the timeout
   * (the publish goes on: its messages may still be delivered, which the protocol allows).
   */
  async publish(bytes: number, publish: () => Promise<void>): Promise<void> {
    this.inFlight += bytes;
    const entry = { at: this.clock() };
    this.started.add(entry);
    const settled = Promise.resolve()
      .then(publish)
      .then(() => void (this.warm = true))
      .finally(() => {
        this.inFlight -= bytes;
        this.started.delete(entry);
      });
    const ms = this.timeoutMs();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublishTimeoutError(ms)), ms);
    });
    try {
      await Promise.race([settled, timeout]);
    } finally {
      clearTimeout(timer);
      settled.catch(() => undefined); // its failure after a timeout has been answered already
    }
  }
}
