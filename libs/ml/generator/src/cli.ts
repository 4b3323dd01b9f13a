#!/usr/bin/env node
/**
 * Synthetic clickstream CLI: `node libs/ml/generator/dist/cli.js --help`.
 *
 * Generates records with {@link ClickstreamGenerator}, paces them with a token bucket when `--rate`
 * is set, writes them to stdout (JSON lines), Kafka or the ingester's HTTP API, and prints a JSON
 * summary on stderr. Building the next batch overlaps with sending the current one.
 */
import { ClickstreamGenerator } from './clickstream-generator';
import { CliUsageError, effectiveBatch, parseCliArgs, USAGE, type CliConfig } from './cli-options';
import { openSink, SinkClosedError, type Sink } from './sinks';
import { TokenBucket } from './token-bucket';

/** How far back an `auto` start may go: stay well inside the ingester's one-year age limit. */
const MAX_AUTO_LOOKBACK_MS = 300 * 86_400_000;
/** Throughput assumed to size an `auto` start when only a duration bounds the run. */
const ASSUMED_UNPACED_RATE = 500_000;

/** Runs the generator into a sink until the record count, the duration or a signal ends it; returns the summary. */
export async function run(
  config: CliConfig,
  open: (config: CliConfig) => Promise<Sink> = openSink,
): Promise<Record<string, unknown>> {
  const startTime = resolveStart(config);
  const gen = new ClickstreamGenerator({ ...config.generator, startTime });
  const sink = await open(config);
  const batchSize = effectiveBatch(config);
  // Up to a second of catch-up after a stall (leader election, GC), so the achieved rate holds.
  const bucket = config.rate > 0 ? new TokenBucket(config.rate, Math.max(batchSize, config.rate)) : undefined;

  let stopping = false;
  const stop = (): void => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const began = performance.now();
  const deadline = config.durationS === undefined ? Infinity : began + config.durationS * 1000;
  let queued = 0;
  let sent = 0;
  let batches = 0;
  let failure: unknown;
  let inflight: Promise<void> | undefined;
  let firstTs: number | undefined;
  try {
    while (!stopping && failure === undefined && performance.now() < deadline) {
      const n = Math.min(batchSize, (config.events ?? Infinity) - queued);
      if (n <= 0) break;
      if (firstTs === undefined) firstTs = gen.clock;
      const records = gen.takeRecords(n);
      if (bucket) await bucket.take(n);
      if (inflight) await inflight;
      if (failure !== undefined) break;
      queued += n;
      inflight = sink.send(records).then(
        () => {
          sent += n;
          batches++;
        },
        (err: unknown) => {
          failure = err;
        },
      );
    }
    if (inflight) await inflight;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await sink.close().catch(() => undefined);
  }
  const seconds = (performance.now() - began) / 1000;
  if (failure !== undefined && !(failure instanceof SinkClosedError)) throw failure;

  const counts = gen.counts;
  return {
    sink: config.sink,
    ...sink.summary(),
    seed: gen.options.seed,
    users: gen.options.users,
    items: gen.options.items,
    sent,
    events: counts.events,
    duplicates: counts.duplicates,
    late: counts.late,
    malformed: counts.malformed,
    batches,
    batchSize,
    seconds: Number(seconds.toFixed(3)),
    rate: Math.round(sent / Math.max(seconds, 1e-9)),
    targetRate: config.rate,
    firstTs: firstTs === undefined ? null : new Date(firstTs).toISOString(),
    lastTs: new Date(gen.clock).toISOString(),
    ...(stopping ? { interrupted: true } : {}),
  };
}

/** `auto`: start early enough that the stream ends about now, so every event is in the ingester's accepted window. */
export function resolveStart(config: CliConfig, now: number = Date.now()): number {
  if (config.start !== 'auto') return config.start;
  const expected =
    config.events ?? Math.ceil((config.durationS ?? 0) * (config.rate > 0 ? config.rate : ASSUMED_UNPACED_RATE));
  const probe = new ClickstreamGenerator({ ...config.generator, startTime: 0, duplicateRate: 0, malformedRate: 0, lateRate: 0 });
  const span = Math.min(MAX_AUTO_LOOKBACK_MS, Math.ceil(probe.estimateSpanMs(expected) * 1.25) + 60_000);
  return now - span;
}

async function main(): Promise<void> {
  let summary: Record<string, unknown>;
  try {
    const config = parseCliArgs(process.argv.slice(2));
    if (config === undefined) {
      process.stdout.write(USAGE);
      return;
    }
    summary = await run(config);
  } catch (err) {
    // Bad flags, or options the generator refuses: a usage problem, exit 2.
    if (err instanceof CliUsageError || err instanceof RangeError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  process.stderr.write(`${JSON.stringify(summary)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${JSON.stringify({ error: (err as Error).message ?? String(err), name: (err as Error).name })}\n`);
    process.exitCode = 1;
  });
}
