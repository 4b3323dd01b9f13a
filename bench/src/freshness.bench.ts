/**
 * npm run bench:freshness — how fresh recommendations are under load, through the whole pipeline
 * as separate processes on real Kafka and Redis:
 *   generator (BENCH_RATE events/s) → raw topic → ingester → events topic → sequence-builder →
 *   Redis window → scorer (GET /v1/users/{user}/recommendations).
 *
 * Every BENCH_PROBE_MS a probe user's first event goes to the raw topic amid the generated traffic.
 * Its acceptance time is the Kafka timestamp the ingester's producer put on it in the events topic
 * (read back by a consumer here; same machine clock). The bench watches Redis for the user's window
 * every millisecond (a cheap EXISTS) and, once it is there, asks the scorer until an answer reflects
 * the event (`sequence.events` = 1). Freshness = answer received − accepted: the earliest answer a
 * caller polling every millisecond would get, without the bench itself loading the scorer with
 * ~1,000 forward passes a second while it waits (which an earlier version did, inflating the tail).
 * Each sample is split into pipeline (accepted → window in Redis) and scorer (→ answer) parts, and
 * the ingester's own delay (raw send → accepted) is reported beside it. The load (generated
 * traffic, and reading the events topic back for acceptance times) runs in a child process
 * (freshness-load.worker.ts, niced) so it does not delay the probing thread's timings.
 *
 * Runs the ingester with INGEST_EXACTLY_ONCE=true (Kafka transactions) and false (at-least-once)
 * unless BENCH_MODES says otherwise; writes bench/results/freshness.json with `p50Ms`, `p99Ms`,
 * `samples` per mode (top-level figures: the default, exactly-once mode) and the cores each process
 * used meanwhile (services, Kafka, Redis, the bench's own load: they all share this machine); in
 * exactly-once mode also the ingester's Kafka transactions by phase (from its /metrics); and each
 * service's Kafka requests per second by API (on a small machine every request is a write and a
 * wake-up on both sides, a large share of the CPU).
 *
 * Environment: KAFKA_BROKERS, REDIS_URL, BENCH_RATE (5,000), BENCH_SECONDS (60 per mode),
 * BENCH_PROBE_MS (100), BENCH_USERS (20,000), BENCH_ITEMS (5,000), BENCH_MODES (exactly-once,at-least-once),
 * BENCH_LOAD_NICE (10: the load process's niceness; it stands for producers on other machines),
 * BENCH_SERVICE_NODE_OPTIONS (the ingester's and sequence-builder's, default as in k8s/base),
 * BENCH_CPU_PROF=1 (V8 CPU profiles of the services in bench/profiles), BENCH_APPS_ROOT (run the
 * services of another checkout's build: bench/src/before-after.bench.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { saveArtifact } from '@seqrec/artifacts';
import { RedisKeys, TOPICS } from '@seqrec/contracts';
import { ClickstreamGenerator } from '@seqrec/generator';
import { createEncoder, initBackend } from '@seqrec/model';
import { FsModelStore } from '@seqrec/model-store';
import { createRedis } from '@seqrec/redis';
import { deleteNamespace } from '@seqrec/redis/testing';
import { startService, type RunningService } from '@seqrec/testing';
import type { LoadWorkerData } from './freshness-load.worker';
import { cpuMeter, envNumber, infraPids, machineInfo, serviceBuild, serviceCommit, writeResult } from './machine';
import { createTopicsAndWait } from '@seqrec/kafka';
import { deleteNamespaceTopics } from '@seqrec/kafka/testing';

const RATE = envNumber('BENCH_RATE', 5_000);
const SECONDS = envNumber('BENCH_SECONDS', 60);
const PROBE_MS = envNumber('BENCH_PROBE_MS', 100);
const USERS = envNumber('BENCH_USERS', 20_000);
const ITEMS = envNumber('BENCH_ITEMS', 5_000);
const LOAD_NICE = envNumber('BENCH_LOAD_NICE', 10);
const MODES = (process.env.BENCH_MODES ?? 'exactly-once,at-least-once').split(',');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const log = (msg: string) => console.error(`[bench:freshness ${process.uptime().toFixed(1)}s] ${msg}`);

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * The ingester's Kafka transactions during the run, from its /metrics (exactly-once only): per
 * phase the mean and the p50/p99 bucket bounds (histogram resolution), batches per transaction and
 * CONCURRENT_TRANSACTIONS retries per transaction. Read after the run, so they cover all of it.
 */
async function transactionStats(metricsUrl: string): Promise<Record<string, unknown> | null> {
  // Every sample line, parsed once: name, labels, value.
  const samples = (await (await fetch(metricsUrl)).text())
    .split('\n')
    .filter((l) => l.startsWith('seqrec_kafka_transaction_'))
    .map((l) => {
      const name = /^[\w:]+/.exec(l)![0];
      const labels = Object.fromEntries([...(l.match(/\{(.*)\}/)?.[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name, labels, value: Number(l.slice(l.lastIndexOf(' ') + 1)) };
    });
  const series = (name: string) => samples.filter((r) => r.name === name);
  const count = series('seqrec_kafka_transaction_messages_count').reduce((a, r) => a + r.value, 0);
  if (count === 0) return null;
  const ms = (x: number) => Number((x * 1000).toFixed(2));
  const phases: Record<string, unknown> = {};
  for (const phase of ['queued', 'produce', 'offsets', 'commit', 'total']) {
    const buckets = series('seqrec_kafka_transaction_seconds_bucket').filter((r) => r.labels['phase'] === phase);
    const n = series('seqrec_kafka_transaction_seconds_count').find((r) => r.labels['phase'] === phase)?.value ?? 0;
    const sum = series('seqrec_kafka_transaction_seconds_sum').find((r) => r.labels['phase'] === phase)?.value ?? 0;
    const bound = (q: number) => {
      const hit = buckets.map((b) => ({ le: Number(b.labels['le'] === '+Inf' ? Infinity : b.labels['le']), c: b.value })).sort((a, b) => a.le - b.le).find((b) => b.c >= q * n);
      return hit ? ms(hit.le) : null;
    };
    phases[phase] = { meanMs: n ? ms(sum / n) : null, p50AtMostMs: bound(0.5), p99AtMostMs: bound(0.99) };
  }
  const messagesSum = series('seqrec_kafka_transaction_messages_sum').reduce((a, r) => a + r.value, 0);
  const retries = series('seqrec_kafka_transaction_add_partitions_retries_total').reduce((a, r) => a + r.value, 0);
  const lookups = series('seqrec_kafka_transaction_coordinator_lookups_total').reduce((a, r) => a + r.value, 0);
  return {
    transactions: count,
    messagesPerTransaction: Number((messagesSum / count).toFixed(1)),
    addPartitionsRetriesPerTransaction: Number((retries / count).toFixed(3)),
    coordinatorLookupsPerTransaction: Number((lookups / count).toFixed(3)),
    phases,
  };
}

/** A service's Kafka requests so far by API, from its /metrics (`seqrec_kafka_requests_total`). */
async function kafkaRequests(metricsUrl: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await (await fetch(metricsUrl)).text()).split('\n')) {
    const m = /^seqrec_kafka_requests_total\{[^}]*api="([^"]+)"[^}]*\} (\S+)$/.exec(line);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

/** Requests per second by API between two readings, largest first. */
function requestRates(before: Record<string, number>, after: Record<string, number>, seconds: number): Record<string, number> {
  const rates = Object.entries(after).map(([api, n]) => [api, Number(((n - (before[api] ?? 0)) / seconds).toFixed(1))] as const);
  return Object.fromEntries(rates.filter(([, r]) => r > 0).sort((a, b) => b[1] - a[1]));
}

function summary(values: number[]): { p50Ms: number; p99Ms: number; maxMs: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50Ms: pct(sorted, 50), p99Ms: pct(sorted, 99), maxMs: sorted[sorted.length - 1] ?? NaN };
}

async function runMode(mode: string, dir: string, itemIds: string[]) {
  const ns = `bench-fresh-${mode}-${Date.now().toString(36)}`;
  const keys = new RedisKeys(ns);
  const topic = (t: string) => `${ns}.${t}`;
  await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: topic(t), numPartitions: 6, replicationFactor: 1 })));
  // the probes' producer: each send awaited on its own, so no lingering for a batch to fill
  const producer = new KafkaJS.Kafka({ kafkaJS: { brokers, clientId: 'seqrec-bench', logLevel: KafkaJS.logLevel.NOTHING } }).producer({
    kafkaJS: { allowAutoTopicCreation: false, acks: 1 },
    'linger.ms': 0,
  });
  await producer.connect();
  const redis = createRedis({ url: redisUrl, connectionName: 'seqrec-bench' });
  await redis.connect();
  const svcEnv = {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_NAMESPACE: ns,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: ns,
    MODEL_STORE_DIR: dir,
    LOG_LEVEL: 'warn',
    INGEST_EXACTLY_ONCE: String(mode === 'exactly-once'),
    SEQUENCE_UPDATES_ENABLED: 'false',
    SCORER_MODEL_POLL_SECONDS: '0',
  };
  const services: RunningService[] = [];
  let loadWorker: ChildProcess | null = null;
  try {
    // The stream services' V8 flags as in k8s/base (a larger young generation: less GC CPU);
    // BENCH_CPU_PROF=1: V8 CPU profiles of the services in bench/profiles (scripts/cpuprofile-top.mjs).
    const streamEnv = { ...svcEnv, NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS ?? '--max-semi-space-size=32' };
    const nodeArgs = process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${join(__dirname, '..', 'profiles')}`] : [];
    services.push(
      ...(await Promise.all([
        startService('ingester', streamEnv, 60_000, nodeArgs, serviceBuild()),
        startService('sequence-builder', streamEnv, 60_000, nodeArgs, serviceBuild()),
        startService('scorer', svcEnv, 120_000, nodeArgs, serviceBuild()),
      ])),
    );
    const scorer = services[2]!;
    const accepted = new Map<string, number>();
    // Load (generated traffic + reading the events topic back) runs in a child process: this
    // thread only probes, so its timings are not delayed by the load's own CPU work. The load
    // stands for producers on other machines: on this shared one it yields the CPU (`nice`, which
    // every thread of the process inherits) to the pipeline being measured. Acceptance times are
    // Kafka timestamps, so a slower reader does not change them; a starved generator would only
    // send less, which the result reports.
    const loadData: LoadWorkerData = {
      brokers,
      rawTopic: topic(TOPICS.CLICKSTREAM_RAW),
      eventsTopic: topic(TOPICS.EVENTS),
      groupId: `${ns}-bench`,
      rate: RATE,
      users: USERS,
      items: ITEMS,
    };
    const load = spawn('nice', ['-n', String(LOAD_NICE), process.execPath, join(__dirname, 'freshness-load.worker.js'), JSON.stringify(loadData)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    loadWorker = load;
    let loadDone: (v: { sent: number; seconds: number }) => void = () => undefined;
    let loadFailed: (err: Error) => void = () => undefined;
    const loadFinished = new Promise<{ sent: number; seconds: number }>((resolve, reject) => {
      loadDone = resolve;
      loadFailed = reject;
    });
    loadFinished.catch(() => undefined); // awaited after the run
    await new Promise<void>((resolve, reject) => {
      load.on('error', reject);
      load.on('exit', (code, signal) => {
        const err = new Error(`the load process exited (${signal ?? code})`);
        reject(err);
        loadFailed(err);
      });
      load.on('message', (m: { kind: string; key?: string; ts?: number; sent?: number; seconds?: number }) => {
        if (m.kind === 'ready') resolve();
        else if (m.kind === 'accepted' && !accepted.has(m.key!)) accepted.set(m.key!, m.ts!);
        else if (m.kind === 'done') loadDone({ sent: m.sent!, seconds: m.seconds! });
      });
    });
    const samples: number[] = [];
    const pipelineSamples: number[] = [];
    const scorerSamples: number[] = [];
    const ingestSamples: number[] = [];
    let missed = 0;
    const probes: Promise<void>[] = [];
    const probe = async (n: number) => {
      const user = `probe-${n}`;
      const sentAt = Date.now();
      await producer.send({
        topic: topic(TOPICS.CLICKSTREAM_RAW),
        messages: [{ key: user, value: JSON.stringify({ eventId: `${ns}-${user}`, userId: user, type: 'click', itemId: itemIds[n % itemIds.length], ts: Date.now() }) }],
      });
      const until = Date.now() + 10_000;
      const windowKey = keys.userSequence(user);
      let visibleAt = 0;
      while (Date.now() < until && !visibleAt) {
        if ((await redis.exists(windowKey)) === 1) visibleAt = Date.now();
        else await new Promise((r) => setTimeout(r, 1));
      }
      while (visibleAt && Date.now() < until) {
        const res = await fetch(`${scorer.url}/v1/users/${user}/recommendations?k=20`);
        const at = Date.now();
        const body = (await res.json()) as { sequence?: { events: number } };
        if (res.status === 200 && body.sequence?.events === 1) {
          // The consumer may see the acceptance a moment after the scorer: wait for it.
          for (let i = 0; i < 2000 && !accepted.has(user); i++) await new Promise((r) => setTimeout(r, 1));
          const acc = accepted.get(user);
          if (acc === undefined) missed++;
          else {
            samples.push(Math.max(0, at - acc));
            pipelineSamples.push(Math.max(0, visibleAt - acc));
            scorerSamples.push(at - visibleAt);
            ingestSamples.push(Math.max(0, acc - sentAt));
          }
          return;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      missed++;
    };
    log(`${mode}: ${RATE} events/s for ${SECONDS} s, a probe every ${PROBE_MS} ms`);
    await new Promise((r) => setTimeout(r, 2_000)); // traffic ramps up before the first probe
    const cpu = cpuMeter({
      ingester: services[0]!.proc.pid,
      sequenceBuilder: services[1]!.proc.pid,
      scorer: scorer.proc.pid,
      'bench (load generator, events reader, probes)': [process.pid, load.pid!],
      ...infraPids(),
    });
    const serviceNames = ['ingester', 'sequenceBuilder', 'scorer'] as const;
    const requestsBefore = await Promise.all(services.map((s) => kafkaRequests(s.metricsUrl)));
    const t0 = Date.now();
    for (let n = 0; Date.now() - t0 < SECONDS * 1000; n++) {
      probes.push(probe(n));
      await new Promise((r) => setTimeout(r, PROBE_MS));
    }
    await Promise.all(probes);
    const cpuUse = cpu();
    const requestSeconds = (Date.now() - t0) / 1000;
    const requestsAfter = await Promise.all(services.map((s) => kafkaRequests(s.metricsUrl)));
    const kafkaRequestsPerSec = Object.fromEntries(serviceNames.map((name, i) => [name, requestRates(requestsBefore[i]!, requestsAfter[i]!, requestSeconds)]));
    load.send('stop');
    const { sent, seconds: loadSeconds } = await loadFinished;
    const transactions = mode === 'exactly-once' ? await transactionStats(services[0]!.metricsUrl) : null;
    const sorted = [...samples].sort((a, b) => a - b);
    const result = {
      mode,
      INGEST_EXACTLY_ONCE: mode === 'exactly-once',
      eventsPerSec: RATE,
      achievedEventsPerSec: Math.round(sent / loadSeconds),
      p50Ms: pct(sorted, 50),
      p90Ms: pct(sorted, 90),
      p99Ms: pct(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? NaN,
      samples: samples.length,
      missed,
      cpuByProcess: cpuUse,
      kafkaRequestsPerSec,
      parts: {
        'accepted→window in Redis': summary(pipelineSamples),
        'window in Redis→scorer answer': summary(scorerSamples),
        'raw send→accepted (ingester, not in the figure above)': summary(ingestSamples),
      },
      ...(transactions ? { ingesterTransactions: transactions } : {}),
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    if (loadWorker && loadWorker.exitCode === null && loadWorker.signalCode === null) loadWorker.kill();
    await Promise.all(services.map((s) => s.stop()));
    await producer.disconnect();
    await deleteNamespaceTopics(brokers, ns).catch(() => undefined);
    await deleteNamespace(redis, keys);
    await redis.quit();
  }
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'bench-fresh-'));
  try {
    // The model's vocabulary is the generator's catalogue, so generated traffic is scored, not fallback.
    const itemIds = [...new ClickstreamGenerator({ seed: 5, users: USERS, items: ITEMS }).catalogue.itemIds];
    const store = new FsModelStore(dir);
    const encoder = createEncoder({ kind: 'sasrec', numItems: itemIds.length, dim: 64, maxLen: 50, blocks: 2, dropout: 0, seed: 3 });
    await saveArtifact(store, {
      manifest: { model: 'sasrec', version: 'bench', createdAt: new Date().toISOString(), data: 'random', metrics: {}, backend: backend.name },
      encoder,
      vocabulary: ['', ...itemIds],
      popularity: [0, ...itemIds.map((_, i) => itemIds.length - i)],
    });
    encoder.dispose();
    await store.promote('sasrec', 'bench');
    const modes = [];
    for (const mode of MODES) modes.push(await runMode(mode, dir, itemIds));
    const main = modes[0]!;
    const file = writeResult('freshness', {
      benchmark: 'freshness',
      at: new Date().toISOString(),
      servicesCommit: serviceCommit(),
      measures: 'event accepted by the ingester (its Kafka timestamp on the events topic) → first scorer answer reflecting it (asked as soon as the window is in Redis, polled every 1 ms)',
      pipeline: 'generator → raw topic → ingester → events topic → sequence-builder → Redis → scorer (processes)',
      model: { kind: 'sasrec', items: itemIds.length, dim: 64, blocks: 2, weights: 'random (untrained)' },
      secondsPerMode: SECONDS,
      loadThreadNice: LOAD_NICE, // of the load process (the name is kept for comparison with earlier results)
      probeEveryMs: PROBE_MS,
      p50Ms: main.p50Ms,
      p99Ms: main.p99Ms,
      samples: main.samples,
      modes,
      backend: backend.name,
      machine: machineInfo(),
    });
    log(`wrote ${file}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
