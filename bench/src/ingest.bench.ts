/**
 * npm run bench:ingest — the ground floor end to end on real Kafka and Redis:
 *   load generator → raw topic → ingester (process) → events topic → sequence-builder (process) → Redis.
 *
 * Open loop at a fixed rate: the load generator publishes BENCH_RATE events/s for BENCH_SECONDS
 * whatever the pipeline does (it does not wait for acknowledgements, only for librdkafka's local
 * queue when it is full, which it reports as falling behind its schedule). The run passes the rate
 * when, at the end of the window, the events not yet in Redis (the backlog) are under one second
 * of traffic. Then it waits for the pipeline to drain, verifies every user's window (lost /
 * duplicated), measures end-to-end latency of probe events below saturation, Kafka's own
 * ProducerPerformance on the same broker with the same message size (the ceiling), and the CPU
 * seconds of every process during the load window (µs per event: where the time goes).
 *
 * Environment: KAFKA_BROKERS, REDIS_URL (scripts/bench.sh starts both), BENCH_RATE (50,000 events/s),
 * BENCH_SECONDS (60), BENCH_USERS (100,000), BENCH_ITEMS (50,000), BENCH_PARTITIONS (6),
 * BENCH_PROBE_EVERY (1,000), BENCH_LATENCY_RATE (200 probe events/s in the latency phase),
 * BENCH_LATENCY_SECONDS (10), BENCH_ANONYMOUS_SESSIONS (0.1: share of sessions that start anonymous and
 * log in, their windows merged), BENCH_SERVICE_NODE_OPTIONS (NODE_OPTIONS of the services, default
 * --max-semi-space-size=32 as in k8s/), BENCH_CPU_PROF=1 (V8 CPU profiles of the services in
 * bench/profiles), KAFKA_COMPRESSION (codec of the load generator's batches and of the services'
 * own; default lz4, the services' default), BENCH_APPS_ROOT (run the services of another checkout's
 * build, e.g. an older commit's: bench/src/before-after.bench.ts).
 *
 * The load generator is librdkafka's native producer (idempotent with the gapless guarantee, so a
 * message that cannot be delivered is a fatal error, not a silent gap; acks=all; Java's murmur2
 * partitioner), fed with payloads encoded before the clock starts and without per-message delivery
 * reports (a report costs the event loop an object and an event per message): its CPU per event is
 * part of the result.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CODES, Producer, librdkafkaVersion, type LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { RedisKeys, TOPICS, type EventV1 } from '@seqrec/contracts';
import { ClickstreamGenerator, recordToMessage } from '@seqrec/generator';
import { RedisItemDictionary, RedisSequenceStore, createRedis } from '@seqrec/redis';
import { deleteNamespace } from '@seqrec/redis/testing';
import { SequenceApplier, decodeWindow } from '@seqrec/window';
import { diffWindow, expectedWindows, startService, type ExpectedPosition, type RunningService } from '@seqrec/testing';
import { cpuMeter, envNumber, infraPids, machineInfo, percentile, serviceBuild, serviceCommit, writeResult } from './machine';
import { KafkaAdmin, createTopicsAndWait } from '@seqrec/kafka';
import { deleteNamespaceTopics } from '@seqrec/kafka/testing';

const RATE = envNumber('BENCH_RATE', 50_000);
const SECONDS = envNumber('BENCH_SECONDS', 60);
const EVENTS = Math.round(RATE * SECONDS);
const USERS = envNumber('BENCH_USERS', 100_000);
const ITEMS = envNumber('BENCH_ITEMS', 50_000);
const PARTITIONS = envNumber('BENCH_PARTITIONS', 6);
const PROBE_EVERY = envNumber('BENCH_PROBE_EVERY', 1_000);
const LATENCY_RATE = envNumber('BENCH_LATENCY_RATE', 200);
const LATENCY_SECONDS = envNumber('BENCH_LATENCY_SECONDS', 10);
const WINDOW = 50;
/** Share of sessions that start anonymous and log in (BENCH_ANONYMOUS_SESSIONS). */
const ANONYMOUS = envNumber('BENCH_ANONYMOUS_SESSIONS', 0.1);
/** Marks an expected window that is a session's (it never logged in), not a user's. */
const SESSION = '\u0000session:';
const COMPRESSION = process.env.KAFKA_COMPRESSION ?? 'lz4';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';

const log = (msg: string) => console.error(`[bench:ingest ${(process.uptime()).toFixed(1)}s] ${msg}`);

/** Sum of a metric's series from a service's /metrics (`metricsUrl`: its METRICS_PORT). */
async function metricSum(metricsUrl: string, name: string, filter = ''): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(filter)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Message = { key: string; value: Buffer };

/** A librdkafka producer, connected, delivery reports polled in its background thread. */
async function nativeProducer(clientId: string, config: Record<string, string | number | boolean>): Promise<Producer> {
  const producer = new Producer({
    'bootstrap.servers': brokers.join(','),
    'client.id': clientId,
    partitioner: 'murmur2_random',
    log_level: 4,
    ...config,
  } as ConstructorParameters<typeof Producer>[0]);
  producer.on('event.log', (e: { severity: number; fac: string; message: string }) => log(`[librdkafka ${clientId}] ${e.fac}: ${e.message}`));
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  producer.setPollInBackground(true);
  return producer;
}

async function closeProducer(producer: Producer): Promise<void> {
  await new Promise<void>((resolve) => producer.flush(30_000, () => resolve()));
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
}

/** Produces one message, waiting while librdkafka's local queue is full; resolves false if it had to wait. */
function produceNow(producer: Producer, topic: string, m: Message): boolean {
  try {
    producer.produce(topic, null, m.value, m.key, null);
    return true;
  } catch (err) {
    if ((err as LibrdKafkaError).code !== CODES.ERRORS.ERR__QUEUE_FULL) throw err;
    return false;
  }
}

async function main(): Promise<void> {
  const ns = `bench.${randomUUID().slice(0, 8)}`;
  const keys = new RedisKeys(ns);
  await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: `${ns}.${t}`, numPartitions: PARTITIONS, replicationFactor: 1 })));

  log(`generating ${EVENTS} records for ${USERS} users over ${ITEMS} items`);
  const gen = new ClickstreamGenerator({ seed: 2026, users: USERS, items: ITEMS, duplicateRate: 0.005, malformedRate: 0.001, lateRate: 0.02, anonymousSessionRate: ANONYMOUS });
  const now = Date.now();
  const span = gen.estimateSpanMs(EVENTS);
  const gen2 = new ClickstreamGenerator({
    seed: 2026, users: USERS, items: ITEMS, duplicateRate: 0.005, malformedRate: 0.001, lateRate: 0.02, anonymousSessionRate: ANONYMOUS,
    startTime: now - span - 3_600_000,
  });
  // payloads encoded up front: the load generator's CPU per event is measured, encoding is not part of it
  const messages: Message[] = [];
  /** acceptedBefore[i]: accepted events (probes included) among messages[0, i). */
  const acceptedBefore: number[] = [0];
  const accepted: Array<Pick<EventV1, 'userId' | 'sessionId' | 'itemId' | 'type' | 'ts'>> = [];
  const probes: Array<{ user: string; index: number; sentAt?: number; seenAt?: number }> = [];
  let duplicates = 0;
  let malformed = 0;
  let bytes = 0;
  for (let i = 0; i < EVENTS; i++) {
    const r = gen2.nextRecord();
    const m = recordToMessage(r);
    const value = Buffer.from(m.value);
    messages.push({ key: m.key, value });
    bytes += value.length;
    let ok = 0;
    if (r.kind === 'duplicate') duplicates++;
    else if (r.kind === 'malformed') malformed++;
    else {
      accepted.push({ userId: r.event.userId, sessionId: r.event.sessionId, itemId: r.event.itemId, type: r.event.type, ts: r.event.ts as number });
      ok = 1;
    }
    acceptedBefore.push(acceptedBefore[acceptedBefore.length - 1]! + ok);
    if ((i + 1) % PROBE_EVERY === 0) {
      const user = `probe-${probes.length}`;
      probes.push({ user, index: messages.length });
      messages.push({ key: user, value: Buffer.from(JSON.stringify({ eventId: `${ns}-${user}`, userId: user, type: 'view', itemId: 'probe-item', ts: now })) });
      acceptedBefore.push(acceptedBefore[acceptedBefore.length - 1]! + 1);
    }
  }
  const avgBytes = Math.round(bytes / EVENTS);
  // an anonymous event belongs to the user its session logs in as, else to the session's own window
  const loginOf = new Map<string, string>();
  for (const a of accepted) if (a.userId !== undefined && a.sessionId !== undefined && !loginOf.has(a.sessionId)) loginOf.set(a.sessionId, a.userId);
  const anonymousEvents = accepted.filter((a) => a.userId === undefined).length;
  const expected = expectedWindows(accepted.map((a) => ({ ...a, userId: a.userId ?? loginOf.get(a.sessionId!) ?? `${SESSION}${a.sessionId}` })), WINDOW);
  log(`${messages.length} messages (${accepted.length} accepted, ${duplicates} duplicates, ${malformed} malformed, ${probes.length} probes), avg ${avgBytes} B`);

  // The ceiling is only comparable on a broker that holds nothing else (thousands of leftover
  // partitions slowed ProducerPerformance from 152k to 93k records/s here).
  const admin = new KafkaAdmin(brokers);
  const otherTopics = (await admin.listTopics()).filter((t) => !t.startsWith(`${ns}.`) && !t.startsWith('__'));
  await admin.disconnect();
  if (otherTopics.length > 0) log(`WARNING: the broker holds ${otherTopics.length} other topics (${otherTopics.slice(0, 5).join(', ')}...): figures are not comparable`);
  log('Kafka ProducerPerformance, same broker, same message size and count (the ceiling)');
  const perf = JSON.parse(
    execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'kafka-perf.sh'), '--json', '--topic', `${ns}.perf`,
      '--num-records', String(messages.length), '--record-size', String(avgBytes), '--partitions', String(PARTITIONS),
      '--bootstrap-server', brokers[0]!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!,
  ) as { recordsPerSec: number; p50Ms: number; p99Ms: number };
  log(`ProducerPerformance: ${perf.recordsPerSec} records/s`);

  const svcEnv = {
    KAFKA_BROKERS: brokers.join(','), KAFKA_NAMESPACE: ns, REDIS_URL: redisUrl, REDIS_PREFIX: ns,
    SEQUENCE_LENGTH: String(WINDOW), LOG_LEVEL: 'warn', KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
    NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS ?? '--max-semi-space-size=32', // as in k8s/
  };
  // BENCH_CPU_PROF=1: V8 CPU profiles of both services in bench/profiles (scripts/cpuprofile-top.mjs reads them)
  const nodeArgs = process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${join(__dirname, '..', 'profiles')}`] : [];
  const services: RunningService[] = await Promise.all([
    startService('ingester', svcEnv, 30_000, nodeArgs, serviceBuild()),
    startService('sequence-builder', svcEnv, 30_000, nodeArgs, serviceBuild()),
  ]);
  const [ingester, builder] = services as [RunningService, RunningService];
  // a failed run must not leave its services consuming (and loading the machine) after it
  process.on('exit', () => services.forEach((svc) => svc.proc.exitCode === null && svc.proc.kill('SIGKILL')));
  const redis = createRedis({ url: redisUrl, connectionName: 'seqrec-bench' });
  await redis.connect();
  const producer = await nativeProducer('seqrec-bench-load', {
    'enable.idempotence': true,
    'enable.gapless.guarantee': true,
    acks: -1,
    'compression.codec': COMPRESSION,
    'linger.ms': 5,
    'batch.num.messages': 10_000,
    'queue.buffering.max.messages': 1_000_000,
    dr_cb: false,
  });
  let producerError: LibrdKafkaError | undefined;
  producer.on('event.error', (err: LibrdKafkaError) => {
    if ((err as LibrdKafkaError & { isFatal?: boolean }).isFatal) producerError ??= err;
  });

  const cpuMeasure = cpuMeter({ ingester: ingester.proc.pid, sequenceBuilder: builder.proc.pid, bench: process.pid, ...infraPids() });

  // probe poller: EXISTS on outstanding probe users every 5 ms
  let polling = false;
  const poller = setInterval(() => {
    if (polling) return;
    const open = probes.filter((p) => p.sentAt !== undefined && p.seenAt === undefined);
    if (open.length === 0) return;
    polling = true;
    const pipe = redis.pipeline();
    for (const p of open) pipe.exists(keys.userSequence(p.user));
    pipe.exec().then((res) => {
      const t = Date.now();
      res?.forEach(([, v], k) => {
        if (v === 1) open[k]!.seenAt = t;
      });
    }).finally(() => (polling = false));
  }, 5);

  const topic = `${ns}.${TOPICS.CLICKSTREAM_RAW}`;
  const appliedNow = async () =>
    (await metricSum(builder.metricsUrl, 'seqrec_sequence_builder_events_total', 'outcome="applied"')) +
    (await metricSum(builder.metricsUrl, 'seqrec_sequence_builder_events_total', 'outcome="too_late"'));
  // Warm-up: both consumer groups joined and the path hot before the clock starts.
  const warmUser = `warmup-${ns}`;
  produceNow(producer, topic, { key: warmUser, value: Buffer.from(JSON.stringify({ eventId: `${ns}-${warmUser}`, userId: warmUser, type: 'view', itemId: 'probe-item', ts: now })) });
  for (const until = Date.now() + 60_000; !(await redis.exists(keys.userSequence(warmUser))); ) {
    if (Date.now() > until) throw new Error('the warm-up event did not reach Redis within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  const appliedBefore = await appliedNow();
  log(`open loop: ${RATE} events/s for ${SECONDS} s`);
  const t0 = Date.now();
  let sent = 0;
  let nextProbe = 0;
  /** Largest shortfall against the schedule, events (the load generator could not keep up). */
  let maxBehind = 0;
  while (sent < messages.length) {
    const due = Math.min(messages.length, Math.floor(((Date.now() - t0) * RATE) / 1000));
    const sentAt = Date.now();
    while (sent < due && produceNow(producer, topic, messages[sent]!)) {
      while (nextProbe < probes.length && probes[nextProbe]!.index === sent) probes[nextProbe++]!.sentAt = sentAt;
      sent++;
    }
    maxBehind = Math.max(maxBehind, due - sent);
    if (producerError) throw new Error(`the load generator's producer failed: ${producerError.message}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  const producedAt = Date.now();
  // The end of the load window: what is not in Redis yet is the backlog.
  const appliedAtEnd = (await appliedNow()) - appliedBefore;
  const endAt = Date.now();
  const cpuUse = cpuMeasure();
  const backlogAtEnd = Math.max(0, acceptedBefore[sent]! - appliedAtEnd);
  log(`produced ${messages.length} in ${((producedAt - t0) / 1000).toFixed(1)} s (at most ${maxBehind} behind schedule); backlog ${backlogAtEnd} events at the end`);
  await new Promise<void>((resolve, reject) => producer.flush(60_000, (err) => (err ? reject(err) : resolve())));
  if (producerError) throw new Error(`the load generator's producer failed: ${producerError.message}`);

  const wantApplied = accepted.length + probes.length;
  let done = 0;
  for (;;) {
    const applied = (await appliedNow()) - appliedBefore;
    if (applied >= wantApplied && probes.every((p) => p.seenAt !== undefined)) {
      done = Date.now();
      break;
    }
    if (Date.now() - producedAt > 600_000) throw new Error(`pipeline stalled at ${applied}/${wantApplied} applied events`);
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`drained ${((done - producedAt) / 1000).toFixed(1)} s after the load window`);

  // Phase 2: latency below saturation. Phase 1 pushes as fast as it can, so its latencies are
  // mostly queueing; here probe events go out one by one at a steady rate.
  log(`latency phase: ${LATENCY_RATE} probe events/s for ${LATENCY_SECONDS} s`);
  // Probes go out through their own producer without the in-flight limit of the idempotent one
  // above: one request at a time queued each probe behind the previous one's round trip, and that
  // queue (growing whenever a round trip took longer than 1000/LATENCY_RATE ms) was counted as
  // pipeline latency. Retries may duplicate a probe; the first copy seen counts either way.
  const probeProducer = await nativeProducer('seqrec-bench-probes', { acks: -1, 'linger.ms': 0, 'compression.codec': COMPRESSION });
  let probeErrors = 0;
  probeProducer.on('event.error', () => probeErrors++);
  const paced: typeof probes = [];
  const latencyStart = Date.now();
  for (let k = 0; Date.now() - latencyStart < LATENCY_SECONDS * 1000; k++) {
    const due = latencyStart + (k * 1000) / LATENCY_RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const user = `paced-${k}`;
    const probe: (typeof probes)[number] = { user, index: -1, sentAt: Date.now() };
    paced.push(probe);
    probes.push(probe);
    probeProducer.produce(topic, null, Buffer.from(JSON.stringify({ eventId: `${ns}-${user}`, userId: user, type: 'view', itemId: 'probe-item', ts: Date.now() })), user);
  }
  await waitUntil(() => paced.every((p) => p.seenAt !== undefined), 60_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${paced.filter((p) => p.seenAt === undefined).length} paced probes not seen (${probeErrors} producer errors)`);
  });
  await closeProducer(probeProducer);
  clearInterval(poller);
  const pacedLat = paced.map((p) => p.seenAt! - p.sentAt!).sort((a, b) => a - b);
  const windowSeconds = (endAt - t0) / 1000;
  const sustained = backlogAtEnd < RATE;

  const ingestCounts = {
    accepted: await metricSum(ingester.metricsUrl, 'seqrec_ingester_events_total', 'outcome="accepted"'),
    duplicate: await metricSum(ingester.metricsUrl, 'seqrec_ingester_events_total', 'outcome="duplicate"'),
    rejected: await metricSum(ingester.metricsUrl, 'seqrec_ingester_events_total', 'outcome="rejected"'),
  };
  const stale = await metricSum(builder.metricsUrl, 'seqrec_sequence_builder_events_total', 'outcome="stale"');

  log('verifying every user window');
  const store = new RedisSequenceStore(redis, keys, { ttlMs: 0 });
  const dict = new RedisItemDictionary(redis, keys);
  const users = [...expected.keys()];
  let lost = 0;
  let duplicated = 0;
  let badUsers = 0;
  for (let i = 0; i < users.length; i += 2_000) {
    const chunk = users.slice(i, i + 2_000);
    const bufs = await readWindows(store, chunk);
    for (let k = 0; k < chunk.length; k++) {
      const w = bufs[k] ? decodeWindow(bufs[k]!) : { events: [] };
      const ids = await dict.idsOf(w.events.map((e) => Math.max(0, e.item)));
      const got: ExpectedPosition[] = w.events.map((e, j) => ({ item: e.item >= 0 ? ids[j]! : null, type: e.type, ts: e.ts }));
      const d = diffWindow(expected.get(chunk[k]!)!, got);
      lost += d.lost;
      duplicated += d.extra;
      if (d.lost || d.extra) badUsers++;
    }
  }

  const sample = users.filter((u, i) => i % Math.max(1, Math.floor(users.length / 2_000)) === 0 && !u.startsWith(SESSION));
  let memSum = 0;
  for (const u of sample) memSum += (await store.memoryUsage(u)) ?? 0;
  const full = await fullWindowMemory(redis);

  const lat = probes.filter((p) => p.index >= 0).map((p) => p.seenAt! - p.sentAt!).sort((a, b) => a - b);
  const cpu = Object.fromEntries(Object.entries(cpuUse).map(([k, v]) => [k, v ? v.cpuSeconds : null]));
  const result = {
    benchmark: 'ingest',
    description: 'generator → raw topic → ingester → events topic → sequence-builder → Redis, real Kafka (KRaft, 1 broker) and Redis, services as separate processes',
    backend: 'none (no model on this path)',
    servicesCommit: serviceCommit(),
    events: messages.length,
    acceptedEvents: accepted.length + probes.length,
    producerRetries: duplicates,
    malformed,
    users: USERS,
    items: ITEMS,
    partitions: PARTITIONS,
    windowLength: WINDOW,
    avgMessageBytes: avgBytes,
    loadGenerator: `librdkafka ${librdkafkaVersion} native producer, idempotent (gapless), acks=all, ${COMPRESSION}, open loop, no delivery reports`,
    offeredRatePerSec: RATE,
    loadSeconds: +windowSeconds.toFixed(2),
    loadGeneratorMaxBehindEvents: maxBehind,
    backlogAtEndEvents: backlogAtEnd,
    backlogAtEndSeconds: +(backlogAtEnd / RATE).toFixed(2),
    sustained,
    sustainedNote: 'sustained: the backlog (events produced but not yet in Redis) at the end of the load window is under one second of traffic',
    appliedPerSecDuringLoad: Math.round(appliedAtEnd / windowSeconds),
    eventsPerSec: sustained ? RATE : Math.round(appliedAtEnd / windowSeconds),
    drainSeconds: +((done - producedAt) / 1000).toFixed(2),
    lost,
    duplicated,
    usersWithWrongWindow: badUsers,
    ingesterCounts: ingestCounts,
    builderStaleEvents: stale,
    anonymousSessionRate: ANONYMOUS,
    anonymousEvents,
    sessionMerges: await metricSum(builder.metricsUrl, 'seqrec_sequence_builder_session_merges_total', 'outcome="merged"'),
    trendingEventsCounted: await metricSum(builder.metricsUrl, 'seqrec_sequence_builder_trending_events_total'),
    latencyNote: `p50Ms/p99Ms: event produced → visible in Redis, probe events sent one at a time at ${LATENCY_RATE}/s (below saturation, Redis polled every 5 ms); saturated*: probes inside the full-speed phase (mostly queueing behind the backlog)`,
    latencySamples: pacedLat.length,
    p50Ms: percentile(pacedLat, 50),
    p99Ms: percentile(pacedLat, 99),
    maxMs: pacedLat[pacedLat.length - 1],
    saturatedLatencySamples: lat.length,
    saturatedP50Ms: percentile(lat, 50),
    saturatedP99Ms: percentile(lat, 99),
    bytesPerUser: full.memoryUsage,
    bytesPerUserValueOnly: full.valueBytes,
    bytesPerUserNote: `MEMORY USAGE of a full ${WINDOW}-event window (generator traffic, ${full.users} users), key and Redis overhead included`,
    bytesPerUserBenchPopulation: Math.round(memSum / sample.length),
    avgEventsPerUserBenchPopulation: +(accepted.length / expected.size).toFixed(1),
    brokerPerfTestEventsPerSec: perf.recordsPerSec,
    otherTopicsOnBroker: otherTopics.length,
    brokerPerfTest: perf,
    ratioToBrokerPerfTest: +((sustained ? RATE : appliedAtEnd / windowSeconds) / perf.recordsPerSec).toFixed(3),
    cpuSecondsByProcess: cpu,
    cpuMicrosPerEvent: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v === null ? null : +((v * 1e6) / sent).toFixed(1)])),
    cpuMicrosPerEventTotal: +((Object.values(cpu).reduce<number>((a, v) => a + (v ?? 0), 0) * 1e6) / sent).toFixed(1),
    cpuNote: 'CPU seconds of each process during the load window, per event offered; 2 cores give 40 µs per event at 50,000/s',
    machine: machineInfo(),
    at: new Date().toISOString(),
  };
  const file = writeResult('ingest', result);
  console.log(JSON.stringify(result, null, 2));
  log(`wrote ${file}`);

  await closeProducer(producer);
  await Promise.all(services.map((s) => s.stop()));
  await deleteNamespace(redis, keys);
  await redis.quit();
  await deleteNamespaceTopics(brokers, ns).catch(() => undefined); // the pipeline's topics and ProducerPerformance's
  if (lost || duplicated) process.exitCode = 1;
}

/** Windows of expected subjects: users, and sessions that never logged in (marked {@link SESSION}). */
async function readWindows(store: RedisSequenceStore, subjects: string[]): Promise<Array<Buffer | null>> {
  const isSession = subjects.map((s) => s.startsWith(SESSION));
  const [users, sessions] = await Promise.all([
    store.getMany(subjects.filter((_, i) => !isSession[i])),
    store.getMany(subjects.filter((_, i) => isSession[i]).map((s) => s.slice(SESSION.length)), 'session'),
  ]);
  let u = 0;
  let s = 0;
  return isSession.map((session) => (session ? sessions[s++]! : users[u++]!));
}

/** State memory of full windows: generator traffic for few users applied straight to Redis. */
async function fullWindowMemory(redis: ReturnType<typeof createRedis>): Promise<{ users: number; memoryUsage: number; valueBytes: number }> {
  const keys = new RedisKeys(`bench-mem-${randomUUID().slice(0, 8)}`);
  const store = new RedisSequenceStore(redis, keys, { ttlMs: 0 });
  const applier = new SequenceApplier(store, new RedisItemDictionary(redis, keys), { capacity: WINDOW, sessionGapMs: 1_800_000 });
  const users = 500;
  const gen = new ClickstreamGenerator({ seed: 7, users, items: ITEMS, startTime: Date.now() - 30 * 86_400_000 });
  const batch = gen.take(users * WINDOW * 3).map((e, i) => ({ partition: 0, offset: i, event: { ...e, ts: e.ts as number } as EventV1 }));
  for (let i = 0; i < batch.length; i += 10_000) await applier.apply(batch.slice(i, i + 10_000));
  const ids = [...new Set(batch.map((b) => b.event.userId!))];
  const bufs = await store.getMany(ids);
  let mem = 0;
  let val = 0;
  let n = 0;
  for (let k = 0; k < ids.length; k++) {
    if (!bufs[k] || decodeWindow(bufs[k]!).events.length < WINDOW) continue;
    mem += (await store.memoryUsage(ids[k]!)) ?? 0;
    val += bufs[k]!.length;
    n++;
  }
  await deleteNamespace(redis, keys);
  return { users: n, memoryUsage: Math.round(mem / n), valueBytes: Math.round(val / n) };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
