import { setTimeout as sleep } from 'node:timers/promises';
import { CODES, Producer, type DeliveryReport, type LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { recordToMessage, type GeneratedRecord } from './clickstream-generator';
import type { CliConfig } from './cli-options';
import { SeqrecError } from '@seqrec/contracts';

/** Codecs of the batches the Kafka sink produces (librdkafka's `compression.codec`). */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/** Where the CLI writes records. `send` resolves once the batch is handed off (written, acked, answered). */
export interface Sink {
  send(records: GeneratedRecord[]): Promise<void>;
  close(): Promise<void>;
  /** Sink-specific fields for the summary. */
  summary(): Record<string, unknown>;
}

/** The reader went away (stdout closed, e.g. `| head`): stop quietly. */
export class SinkClosedError extends SeqrecError {
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = 'SinkClosedError';
  }
}

/** A sink failed for good (after its own retries). */
export class SinkError extends SeqrecError {
  constructor(message: string, retriable: boolean, context: Record<string, unknown>, options?: ErrorOptions) {
    super(message, { retriable, context, cause: options?.cause });
    this.name = 'SinkError';
  }
}

export async function openSink(config: CliConfig): Promise<Sink> {
  switch (config.sink) {
    case 'stdout':
      return new StdoutSink(process.stdout);
    case 'kafka': {
      const sink = new KafkaSink(config.brokers, config.topic, config.clientId, { compression: config.compression });
      await sink.connect();
      return sink;
    }
    case 'http':
      return new HttpSink(config.url, config.httpFormat);
  }
}

/** JSON lines: one record per line, malformed payloads as they are. */
export class StdoutSink implements Sink {
  private closed = false;

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  async send(records: GeneratedRecord[]): Promise<void> {
    if (this.closed) throw new SinkClosedError('stdout closed');
    let chunk = '';
    for (const r of records) chunk += `${r.kind === 'malformed' ? r.payload : JSON.stringify(r.event)}\n`;
    if (!this.out.write(chunk) && !this.closed) await drained(this.out);
    if (this.closed) throw new SinkClosedError('stdout closed');
  }

  async close(): Promise<void> {}

  summary(): Record<string, unknown> {
    return {};
  }
}

export interface KafkaSinkOptions {
  /** Codec of the produced batches. Default none. */
  compression?: KafkaCompression;
  /** How long a message may wait for its acknowledgement (retries included) before the batch fails. Default 60 s. */
  messageTimeoutMs?: number;
}

/** One `send` call's messages still waiting for their delivery reports. */
interface PendingBatch {
  remaining: number;
  error: LibrdKafkaError | null;
  done: () => void;
}

/**
 * Kafka through librdkafka's native producer: idempotent (acks=all, retries keep order), messages
 * keyed by user id and partitioned as the Java client does (murmur2), so each user's events stay on
 * one partition whichever client produced them; batches compressed with the configured codec. A
 * `send` produces every record and resolves once all were acknowledged (delivery reports, polled in
 * librdkafka's background thread); a message not acknowledged within the message timeout fails the
 * batch, so the generator fails rather than hangs when the broker is gone.
 */
export class KafkaSink implements Sink {
  private readonly producer: Producer;
  private readonly compression: KafkaCompression;
  private connected = false;

  constructor(
    private readonly brokers: string[],
    private readonly topic: string,
    clientId: string,
    options: KafkaSinkOptions = {},
  ) {
    this.compression = options.compression ?? 'none';
    this.producer = new Producer({
      'bootstrap.servers': brokers.join(','),
      'client.id': clientId,
      'enable.idempotence': true,
      acks: -1,
      'compression.codec': this.compression,
      'linger.ms': 5,
      partitioner: 'murmur2_random',
      'message.timeout.ms': options.messageTimeoutMs ?? 60_000,
      dr_cb: true,
      // librdkafka's log lines arrive as 'event.log' events: warnings and errors go to stderr
      log_level: 4,
    });
    this.producer.on('delivery-report', (err: LibrdKafkaError | null, report: DeliveryReport) => {
      const batch = report.opaque as PendingBatch;
      if (err && !batch.error) batch.error = err;
      if (--batch.remaining === 0) batch.done();
    });
    this.producer.on('event.log', (e: { severity: number; fac: string; message: string }) => {
      if (e.severity <= 4) process.stderr.write(`[librdkafka] ${e.fac}: ${e.message}\n`);
    });
    this.producer.on('event.error', (err: LibrdKafkaError) => process.stderr.write(`[librdkafka] error: ${err.message}\n`));
  }

  async connect(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => this.producer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
      this.producer.setPollInBackground(true);
      this.connected = true;
    } catch (err) {
      throw new SinkError(`cannot connect to Kafka at ${this.brokers.join(',')}: ${(err as Error).message}`, true, {
        brokers: this.brokers,
      }, { cause: err });
    }
  }

  async send(records: GeneratedRecord[]): Promise<void> {
    if (records.length === 0) return;
    let done!: () => void;
    const acknowledged = new Promise<void>((resolve) => (done = resolve));
    const batch: PendingBatch = { remaining: records.length, error: null, done };
    produce: for (let i = 0; i < records.length; i++) {
      const m = recordToMessage(records[i]!);
      const value = Buffer.from(m.value);
      for (;;) {
        try {
          this.producer.produce(this.topic, null, value, m.key, null, batch);
          continue produce;
        } catch (err) {
          // librdkafka's queue is full (a batch larger than queue.buffering.max.messages): let it drain
          if ((err as LibrdKafkaError).code === CODES.ERRORS.ERR__QUEUE_FULL) {
            await sleep(5);
            continue;
          }
          // not produced: this record and the rest; wait for the reports of those that were
          batch.error ??= err as LibrdKafkaError;
          batch.remaining -= records.length - i;
          if (batch.remaining === 0) batch.done();
          break produce;
        }
      }
    }
    await acknowledged;
    if (batch.error) {
      throw new SinkError(`producing to ${this.topic} failed: ${batch.error.message}`, false, {
        brokers: this.brokers,
        topic: this.topic,
      }, { cause: batch.error });
    }
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await new Promise<void>((resolve) => this.producer.flush(30_000, () => resolve()));
    await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()));
  }

  summary(): Record<string, unknown> {
    return { brokers: this.brokers, topic: this.topic, compression: this.compression };
  }
}

/** Resolves on 'drain', 'close' or 'error' (errors are handled by the stream's own listener). */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
  });
}

const HTTP_ATTEMPTS = 4;

/**
 * POSTs batches with global fetch: a JSON array, or NDJSON (one payload per line, so even
 * invalid-JSON payloads travel as they are). Non-2xx answers are counted by status, not fatal (an
 * ingester may answer a batch holding malformed events with 4xx); network errors are retried, then
 * fatal.
 */
export class HttpSink implements Sink {
  private readonly statuses: Record<string, number> = {};
  private firstFailure: string | undefined;

  constructor(
    private readonly url: string,
    private readonly format: 'json' | 'ndjson',
  ) {}

  async send(records: GeneratedRecord[]): Promise<void> {
    const values = records.map((r) => recordToMessage(r).value);
    const body = this.format === 'json' ? `[${values.join(',')}]` : `${values.join('\n')}\n`;
    const contentType = this.format === 'json' ? 'application/json' : 'application/x-ndjson';
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': contentType }, body });
        const text = await res.text();
        this.statuses[res.status] = (this.statuses[res.status] ?? 0) + 1;
        if (!res.ok && this.firstFailure === undefined) {
          this.firstFailure = `${res.status}: ${text.slice(0, 500)}`;
          process.stderr.write(`POST ${this.url} answered ${this.firstFailure}\n`);
        }
        return;
      } catch (err) {
        if (attempt >= HTTP_ATTEMPTS) {
          throw new SinkError(`POST ${this.url} failed ${attempt} times: ${describeError(err)}`, true, { url: this.url }, { cause: err });
        }
        await sleep(100 * 2 ** attempt);
      }
    }
  }

  async close(): Promise<void> {}

  summary(): Record<string, unknown> {
    return { url: this.url, format: this.format, statuses: this.statuses };
  }
}

/** The message of an error and of its cause (fetch hides ECONNREFUSED and friends in `cause`). */
function describeError(err: unknown): string {
  const e = err as Error & { cause?: { message?: string } };
  return e.cause?.message ? `${e.message} (${e.cause.message})` : String(e.message ?? err);
}
