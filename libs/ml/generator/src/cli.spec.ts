import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOPICS } from '@seqrec/contracts';
import type { GeneratedRecord } from './clickstream-generator';
import { resolveStart, run } from './cli';
import { CliUsageError, effectiveBatch, parseCliArgs, type CliConfig } from './cli-options';
import { SinkClosedError, type Sink } from './sinks';

function newConfig(argv: string[]): CliConfig {
  const config = parseCliArgs(argv, {});
  assert.ok(config);
  return config;
}

class MemorySink implements Sink {
  readonly batches: GeneratedRecord[][] = [];
  closed = false;
  constructor(private readonly failAfter = Infinity) {}
  async send(records: GeneratedRecord[]): Promise<void> {
    if (this.batches.length >= this.failAfter) throw new SinkClosedError('reader went away');
    this.batches.push(records);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  summary(): Record<string, unknown> {
    return { memory: true };
  }
}

describe(parseCliArgs.name, () => {
  it('fills defaults: 100k records to stdout, unpaced, the raw topic', () => {
    const c = newConfig([]);
    assert.equal(c.events, 100_000);
    assert.equal(c.durationS, undefined);
    assert.equal(c.rate, 0);
    assert.equal(c.sink, 'stdout');
    assert.equal(c.batch, 1_000);
    assert.equal(c.topic, TOPICS.CLICKSTREAM_RAW);
    assert.equal(c.start, 'auto');
    assert.equal(c.compression, 'none');
    assert.deepEqual(c.generator, {});
  });

  it('takes the Kafka codec from --compression, else KAFKA_COMPRESSION, and rejects unknown ones', () => {
    assert.equal(parseCliArgs(['--sink', 'kafka', '--compression', 'zstd'], {})?.compression, 'zstd');
    assert.equal(parseCliArgs(['--sink', 'kafka'], { KAFKA_COMPRESSION: 'lz4' })?.compression, 'lz4');
    assert.equal(parseCliArgs(['--sink', 'kafka', '--compression', 'gzip'], { KAFKA_COMPRESSION: 'lz4' })?.compression, 'gzip');
    assert.throws(() => parseCliArgs(['--sink', 'kafka', '--compression', 'brotli'], {}), (err: unknown) => err instanceof CliUsageError && /--compression/.test(err.message));
  });

  it('maps generator flags and takes brokers from KAFKA_BROKERS', () => {
    const c = parseCliArgs(
      ['--sink', 'kafka', '--events', '10', '--seed', 'demo', '--users', '50', '--items', '300', '--dup-rate', '0.01',
        '--malformed-rate', '0.02', '--late-rate', '0.03', '--no-context', '--start', '2025-06-01T00:00:00Z'],
      { KAFKA_BROKERS: 'k1:9092, k2:9093' },
    );
    assert.ok(c);
    assert.deepEqual(c.brokers, ['k1:9092', 'k2:9093']);
    assert.equal(c.batch, 2_000);
    assert.equal(c.start, Date.UTC(2025, 5, 1));
    assert.deepEqual(c.generator, {
      seed: 'demo',
      users: 50,
      items: 300,
      duplicateRate: 0.01,
      malformedRate: 0.02,
      lateRate: 0.03,
      context: false,
    });
  });

  it('leaves invalid JSON out of malformations for JSON-array HTTP bodies only', () => {
    assert.ok(!newConfig(['--sink', 'http']).generator.malformedKinds?.includes('invalid_json'));
    assert.equal(newConfig(['--sink', 'http', '--http-format', 'ndjson']).generator.malformedKinds, undefined);
  });

  it('runs for a duration only when just --duration is given', () => {
    const c = newConfig(['--duration', '5', '--rate', '100']);
    assert.equal(c.events, undefined);
    assert.equal(c.durationS, 5);
  });

  it('lists every bad flag', () => {
    assert.throws(
      () => parseCliArgs(['--rate=-1', '--sink', 'file', '--dup-rate', '1'], {}),
      (err: unknown) => err instanceof CliUsageError && /--rate/.test(err.message) && /--sink/.test(err.message) && /--dup-rate/.test(err.message),
    );
    assert.throws(() => parseCliArgs(['--nope'], {}), CliUsageError);
    assert.throws(() => parseCliArgs(['--sink', 'kafka', '--brokers', 'no-port'], {}), CliUsageError);
  });

  it('returns undefined for --help', () => {
    assert.equal(parseCliArgs(['--help'], {}), undefined);
  });
});

describe(effectiveBatch.name, () => {
  it('shrinks batches at low rates so pacing stays smooth', () => {
    assert.equal(effectiveBatch({ batch: 2_000, rate: 0 }), 2_000);
    assert.equal(effectiveBatch({ batch: 2_000, rate: 1_000 }), 50);
    assert.equal(effectiveBatch({ batch: 2_000, rate: 5 }), 1);
    assert.equal(effectiveBatch({ batch: 2_000, rate: 1_000_000 }), 2_000);
  });
});

describe(resolveStart.name, () => {
  it('ends an auto-started stream before now, inside the ingester window', () => {
    const now = Date.UTC(2026, 0, 1);
    const c = newConfig(['--events', '200000', '--users', '2000', '--items', '1000']);
    const start = resolveStart(c, now);
    assert.ok(start < now && start > now - 300 * 86_400_000);
  });

  it('keeps an explicit start', () => {
    assert.equal(resolveStart(newConfig(['--start', '1700000000000']), 0), 1_700_000_000_000);
  });
});

describe(run.name, () => {
  it('sends exactly --events records in batches and summarises them', async () => {
    const sink = new MemorySink();
    const config = newConfig(['--events', '2500', '--batch', '1000', '--users', '300', '--items', '400', '--dup-rate', '0.1']);
    const summary = await run(config, async () => sink);
    assert.deepEqual(sink.batches.map((b) => b.length), [1_000, 1_000, 500]);
    assert.ok(sink.closed);
    assert.equal(summary.sent, 2_500);
    assert.equal((summary.events as number) + (summary.duplicates as number), 2_500);
    assert.ok((summary.duplicates as number) > 150);
    assert.equal(summary.memory, true);
    const lastTs = Date.parse(summary.lastTs as string);
    assert.ok(lastTs <= Date.now(), 'auto start keeps events in the past');
  });

  it('stops quietly when the reader goes away', async () => {
    const sink = new MemorySink(2);
    const summary = await run(newConfig(['--events', '10000', '--batch', '100', '--users', '100', '--items', '200']), async () => sink);
    assert.equal(summary.sent, 200);
  });
});
