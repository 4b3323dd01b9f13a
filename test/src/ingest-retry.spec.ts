/**
 * The HTTP ingest protocol (docs/ingest-protocol.md) against the real ingester process, Kafka and
 * Redis: a client that retries the same events (same eventIds) within INGEST_DEDUP_TTL_SECONDS
 * after any failure never loses and never duplicates an event. One scenario per failure point,
 * each with its own topics; the failure is forced with INGEST_FAILPOINTS (libs/pipeline/ingest/src/failpoints.ts)
 * or, for Redis, by killing a redis-server of the test's own. Oracle: every event id the client
 * sent is on the events topic exactly once (outside the window: the documented second copy).
 * Kafka going down is in ingest-backpressure.spec.ts (it needs a broker of its own).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TOPICS } from '@seqrec/contracts';
import { createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, readTopic, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { redisUrlFromEnv } from '@seqrec/redis/testing';
import { LOG_DIR, type RunningService } from '@seqrec/testing';
import { OwnRedis, dropNamespaces, makeEvents, startServiceRetrying, metricValue, post, tally, type PostResult, type TestEvent } from './ingest-helpers';

const brokers = brokersFromEnv();
const namespaces: string[] = [];
const running: RunningService[] = [];

after(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await dropNamespaces(brokers, namespaces);
});

/** A scenario's own topics and Redis prefix, and an ingester on them. */
async function scenario(label: string, extraEnv: Record<string, string> = {}) {
  const ns = uniqueName(`retry-${label}`);
  namespaces.push(ns);
  await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: `${ns}.${t}`, numPartitions: 3, replicationFactor: 1 })));
  const env = {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_NAMESPACE: ns,
    REDIS_URL: redisUrlFromEnv(),
    REDIS_PREFIX: ns,
    LOG_LEVEL: 'warn',
    // a SIGKILLed member holds its partitions this long (the broker's minimum)
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    ...extraEnv,
  };
  const start = async (more: Record<string, string> = {}) => {
    const s = await startServiceRetrying('ingester', { ...env, ...more });
    running.push(s);
    return s;
  };
  const topic = (t: string) => `${ns}.${t}`;
  return { ns, env, start, topic };
}

/** The events topic holds each id of `events` exactly `times` times, and nothing else. */
/**
 * How long to read the events topic after a SIGKILLed ingester was restarted: the dead member keeps
 * its partitions for KAFKA_SESSION_TIMEOUT_MS (6 s here), then the group rebalances in two
 * cooperative rounds before the new member consumes; 6 s of reading was too short on a loaded
 * machine: one CI run read none of them (the restarted ingester had not consumed yet).
 */
const AFTER_KILL_READ_MS = 20_000;

/**
 * Every event `times` on `topic`, nothing else. The read lasts `timeoutMs` (it asks for one message
 * more than expected, so that an extra copy is seen).
 */
async function expectOnTopic(topic: string, events: TestEvent[], times = 1, timeoutMs = 6_000): Promise<void> {
  const total = events.length * times;
  const got = tally(await readTopic(brokers, topic, { count: total + 1, timeoutMs }));
  const wrong = events.filter((e) => got.get(e.eventId) !== times).map((e) => `${e.eventId}: ${got.get(e.eventId) ?? 0}`);
  assert.deepEqual(wrong, [], `events not on ${topic} exactly ${times}×`);
  assert.equal([...got.values()].reduce((a, b) => a + b, 0), total, 'nothing else on the topic');
}

/** Every event of a 200 answer is accepted or a duplicate (both mean: it is in, once). */
function assertIn(res: PostResult, n: number): void {
  assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
  assert.equal((res.body.accepted ?? 0) + (res.body.duplicates ?? 0), n, JSON.stringify(res.body).slice(0, 500));
}

function logOf(s: RunningService): string {
  return readFileSync(join(LOG_DIR, `ingester-${s.port}.log`), 'utf8');
}

const exited = (s: RunningService) => new Promise<NodeJS.Signals | null>((resolve) => (s.proc.exitCode !== null || s.proc.signalCode !== null ? resolve(s.proc.signalCode) : s.proc.once('exit', (_c, sig) => resolve(sig))));

describe('POST /v1/events: a retry of the same events after any failure neither loses nor duplicates', () => {
  it('an exception after the claim, before publishing (raw consumer): the batch is redone, each event once', async () => {
    const sc = await scenario('claim-throw', { INGEST_FAILPOINTS: 'raw.after-claim=throw*1' });
    const ingester = await sc.start();
    const events = makeEvents('ct', 200);
    assertIn(await post(ingester.url, events), 200);
    await expectOnTopic(sc.topic(TOPICS.EVENTS), events);
    assert.match(logOf(ingester), /failpoint raw\.after-claim: throw/);
  });

  it('an exception between publishing and answering (HTTP): 503, the retry brings each event in once', async () => {
    const sc = await scenario('publish-throw', { INGEST_FAILPOINTS: 'http.after-publish=throw*1' });
    const ingester = await sc.start();
    const events = makeEvents('pt', 150);
    const first = await post(ingester.url, events);
    assert.deepEqual([first.status, first.body.reason, first.retryAfter], [503, 'internal', '1']);
    assertIn(await post(ingester.url, events), 150);
    await expectOnTopic(sc.topic(TOPICS.EVENTS), events);
  });

  it('SIGKILL between publishing and answering: after the restart the retry brings each event in once', async () => {
    const sc = await scenario('kill-after-publish');
    const events = makeEvents('kp', 300);
    const dying = await sc.start({ INGEST_FAILPOINTS: 'http.after-publish=kill' });
    const first = await post(dying.url, events);
    assert.equal(first.status, 0, 'no answer: the ingester died');
    assert.equal(await exited(dying), 'SIGKILL');
    const ingester = await sc.start();
    assertIn(await post(ingester.url, events), 300);
    await expectOnTopic(sc.topic(TOPICS.EVENTS), events, 1, AFTER_KILL_READ_MS);
    // the killed attempt's copies reached the raw topic: the raw consumer dropped one copy of each
    const raw = await readTopic(brokers, sc.topic(TOPICS.CLICKSTREAM_RAW), { count: 600, timeoutMs: 10_000 });
    assert.equal(raw.length, 600, 'both attempts are on the raw topic');
  });

  it('SIGKILL after the claims, before the answer: the retry is answered duplicate, each event once', async () => {
    const sc = await scenario('kill-before-answer');
    const events = makeEvents('kb', 120);
    const dying = await sc.start({ INGEST_FAILPOINTS: 'http.before-answer=kill' });
    assert.equal((await post(dying.url, events)).status, 0);
    assert.equal(await exited(dying), 'SIGKILL');
    const ingester = await sc.start();
    const retry = await post(ingester.url, events);
    assert.deepEqual([retry.status, retry.body.accepted, retry.body.duplicates], [200, 0, 120]);
    await expectOnTopic(sc.topic(TOPICS.EVENTS), events, 1, AFTER_KILL_READ_MS);
  });

  it("the client's timeout while its first attempt is still in flight: two attempts at once, each event once", async () => {
    const sc = await scenario('client-timeout', { INGEST_FAILPOINTS: 'http.after-publish=delay:3000*1' });
    const ingester = await sc.start();
    const events = makeEvents('to', 250);
    const first = await post(ingester.url, events, { timeoutMs: 500 });
    assert.equal(first.status, 0, `the client gave up: ${first.error}`);
    const retry = await post(ingester.url, events);
    assertIn(retry, 250);
    await new Promise((r) => setTimeout(r, 3_000)); // the first attempt finishes on the server meanwhile
    await expectOnTopic(sc.topic(TOPICS.EVENTS), events);
  });

  it('the same request twice at the same moment: each event accepted by one answer, duplicate in the other', async () => {
    const sc = await scenario('concurrent');
    const ingester = await sc.start();
    const events = makeEvents('cc', 400);
    const [a, b] = await Promise.all([post(ingester.url, events), post(ingester.url, events)]);
    assertIn(a, 400);
    assertIn(b, 400);
    const statuses = events.map((_, i) => [a.body.results![i]!.status, b.body.results![i]!.status].sort().join('+'));
    assert.deepEqual(new Set(statuses), new Set(['accepted+duplicate']));
    await expectOnTopic(sc.topic(TOPICS.EVENTS), events);
  });

  it('a request published in part: 503, the retry brings each event in once', async () => {
    const sc = await scenario('partial', { INGEST_FAILPOINTS: 'http.partial-publish=throw*1' });
    const ingester = await sc.start();
    const events = makeEvents('pp', 200);
    const first = await post(ingester.url, events);
    assert.deepEqual([first.status, first.body.reason], [503, 'publish_failed']);
    assertIn(await post(ingester.url, events), 200);
    await expectOnTopic(sc.topic(TOPICS.EVENTS), events);
    const raw = await readTopic(brokers, sc.topic(TOPICS.CLICKSTREAM_RAW), { count: 301, timeoutMs: 6_000 });
    assert.equal(raw.length, 300, 'the first half of the first attempt, then all of the retry');
  });

  it('Redis down: events are answered accepted (durable on the raw topic) and published exactly once when Redis is back', async () => {
    const redis = await OwnRedis.create();
    const sc = await scenario('redis-down', { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '1000' });
    const ingester = await sc.start();
    const before = makeEvents('rb', 50);
    assertIn(await post(ingester.url, before), 50);
    await expectOnTopic(sc.topic(TOPICS.EVENTS), before);
    await redis.kill();
    const events = makeEvents('rd', 100);
    const first = await post(ingester.url, events);
    assert.deepEqual([first.status, first.body.accepted], [200, 100], 'on the raw topic: accepted, claims unknown');
    const retry = await post(ingester.url, events); // a client that retries anyway (it timed out, say)
    assert.deepEqual([retry.status, retry.body.accepted], [200, 100]);
    assert.equal(metricValue(await (await fetch(ingester.metricsUrl)).text(), 'seqrec_ingester_http_claims_unknown_total'), 200);
    await redis.start();
    await waitFor('the raw consumer to catch up after Redis is back', async () => {
      const got = tally(await readTopic(brokers, sc.topic(TOPICS.EVENTS), { count: 150, timeoutMs: 3_000 }));
      return got.size === 150;
    }, 60_000);
    await expectOnTopic(sc.topic(TOPICS.EVENTS), [...before, ...events]);
    await redis.kill();
  });

  it('a retry just inside the window is a duplicate; just outside it, a new event (documented)', async () => {
    const sc = await scenario('window', { INGEST_DEDUP_TTL_SECONDS: '3' });
    const ingester = await sc.start();
    const events = makeEvents('win', 80);
    const first = await post(ingester.url, events);
    assert.deepEqual([first.status, first.body.accepted], [200, 80]);
    const claimedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2_000 - (Date.now() - claimedAt)));
    const inside = await post(ingester.url, events);
    assert.deepEqual([inside.status, inside.body.duplicates], [200, 80], 'at 2 s of a 3 s window: duplicates');
    await expectOnTopic(sc.topic(TOPICS.EVENTS), events);
    await new Promise((r) => setTimeout(r, Math.max(0, 4_000 - (Date.now() - claimedAt))));
    const outside = await post(ingester.url, events);
    assert.deepEqual([outside.status, outside.body.accepted], [200, 80], 'at 4 s of a 3 s window: new events');
    await expectOnTopic(sc.topic(TOPICS.EVENTS), events, 2);
  });

  it('rejected elements are dead-lettered once: after a failed attempt, a retry, a concurrent copy and a retry of a success', async () => {
    const sc = await scenario('dead-letters', { INGEST_FAILPOINTS: 'http.after-publish=throw*1' });
    const ingester = await sc.start();
    const good = makeEvents('dl', 60);
    const bad = [0, 1, 2].map((i) => ({ ...makeEvents(`dl-bad`, 3)[i]!, type: 'teleport' }));
    const body = [...good.slice(0, 30), ...bad, ...good.slice(30)];
    const first = await post(ingester.url, body);
    assert.deepEqual([first.status, first.body.reason], [503, 'internal'], 'published, then failed');
    const [retry, concurrent] = await Promise.all([post(ingester.url, body), post(ingester.url, body)]);
    for (const res of [retry, concurrent]) {
      assert.deepEqual([res.status, (res.body.accepted ?? 0) + (res.body.duplicates ?? 0), res.body.rejected], [200, 60, 3], JSON.stringify(res.body).slice(0, 300));
    }
    const again = await post(ingester.url, body); // a client that retries a 200 (it lost the answer)
    assert.deepEqual([again.status, again.body.duplicates, again.body.rejected], [200, 60, 3]);
    await expectOnTopic(sc.topic(TOPICS.EVENTS), good);
    // four attempts relayed every dead letter: the DLQ has each once, the first attempt's
    const letters = tally(await readTopic(brokers, sc.topic(TOPICS.EVENTS_DLQ), { count: bad.length + 1, timeoutMs: 8_000 }));
    assert.deepEqual([...letters].sort(), bad.map((e) => [e.eventId, 1]), 'each rejected element dead-lettered once');
    const raw = await readTopic(brokers, sc.topic(TOPICS.CLICKSTREAM_RAW), { count: 4 * body.length + 1, timeoutMs: 6_000 });
    assert.equal(raw.length, 4 * body.length, 'all four attempts are on the raw topic, dead letters included');
    assert.equal(metricValue(await (await fetch(ingester.metricsUrl)).text(), 'seqrec_ingester_dead_letters_repeated_total'), 9);
  });
});
