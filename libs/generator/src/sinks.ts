import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { recordToMessage, type GeneratedRecord } from './clickstream-generator';
import type { CliConfig } from './cli-options';

/** Where the CLI writes records. `send` resolves once the batch is handed off (written, acked, answered). */
export interface Sink {
  send(records: GeneratedRecord[]): Promise<void>;
  close(): Promise<void>;
  /** Sink-specific fields for the summary. */
  summary(): Record<string, unknown>;
}

/** The reader went away (stdout closed, e.g. `| head`): stop quietly. */
export class SinkClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SinkClosedError';
  }
}

/** A sink failed for good (after its own retries). */
export class SinkError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    readonly context: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SinkError';
  }
}

export async function openSink(config: CliConfig): Promise<Sink> {
  switch (config.sink) {
    case 'stdout':
      return new StdoutSink(process.stdout);
    case 'kafka': {
      const sink = new KafkaSink(config.brokers, config.topic, config.clientId);
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

/**
 * Kafka through kafkajs: an idempotent producer (acks=all), messages keyed by user id so each
 * user's events stay on one partition, one sendBatch per batch of records.
 */
export class KafkaSink implements Sink {
  private readonly producer: Producer;

  constructor(
    private readonly brokers: string[],
    private readonly topic: string,
    clientId: string,
  ) {
    const kafka = new Kafka({
      clientId,
      brokers,
      retry: { initialRetryTime: 100, retries: 8 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        const { message, ...extra } = entry.log;
        // Bounded retries are deliberate: a generator should fail, not hang, when the broker is gone.
        if (message.startsWith('Limiting retries for the idempotent producer')) return;
        process.stderr.write(`[kafkajs] ${entry.namespace}: ${message} ${JSON.stringify(extra)}\n`);
      },
    });
    // One request in flight: kafkajs's idempotent producer is only safe that way.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    try {
      await this.producer.connect();
    } catch (err) {
      throw new SinkError(`cannot connect to Kafka at ${this.brokers.join(',')}: ${(err as Error).message}`, true, {
        brokers: this.brokers,
      }, { cause: err });
    }
  }

  async send(records: GeneratedRecord[]): Promise<void> {
    const messages = new Array<{ key: string; value: string }>(records.length);
    for (let i = 0; i < records.length; i++) messages[i] = recordToMessage(records[i]!);
    try {
      await this.producer.sendBatch({ topicMessages: [{ topic: this.topic, messages }], acks: -1, compression: CompressionTypes.None });
    } catch (err) {
      throw new SinkError(`sendBatch to ${this.topic} failed: ${(err as Error).message}`, false, {
        brokers: this.brokers,
        topic: this.topic,
      }, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }

  summary(): Record<string, unknown> {
    return { brokers: this.brokers, topic: this.topic };
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
