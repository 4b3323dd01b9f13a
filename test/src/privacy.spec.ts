/**
 * The right to be forgotten end to end, every service as its own process against real Kafka and
 * Redis (docs/privacy.md): a shopper with history, an anonymous session merged at login, a vector
 * and a trained model is deleted with `DELETE /v1/users/{id}`; events of theirs still in flight
 * (on the events topic, and on the raw path) arrive after it. Then every store is searched for the
 * user: every Redis key and value, the events a trainer replay reads (the model's training data),
 * the retraining the deletion scheduled, and the model store's refusal of the version trained
 * before the deletion. Experiment assignments are not stored (a hash of the user id, see
 * docs/privacy.md), so there is nothing to look into. Finally the services' logs are scanned for
 * the raw user id.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { TOPICS, parseUserDeletion } from '@seqrec/contracts';
import { KafkaAdmin } from '@seqrec/kafka';
import { readTopic, testKafka, waitFor } from '@seqrec/kafka/testing';
import { TrainedBeforeDeletionError } from '@seqrec/model-store';
import { dumpNamespace, keysHolding } from '@seqrec/redis/testing';
import { createTestArtifact } from '@seqrec/scoring/testing';
import { LOG_DIR, type RunningService } from '@seqrec/testing';
import { replayEvents } from '@seqrec/training';
import type { Redis } from 'ioredis';
import { metricValue } from './ingest-helpers';
import { E2eStack } from './stack';

const ITEMS = Array.from({ length: 30 }, (_, i) => `p${i}`);
const CHAIN = Array.from({ length: 200 }, (_, u) => Array.from({ length: 10 }, (_, j) => (u + j) % ITEMS.length));
const OTHERS = 12;

describe('privacy: DELETE /v1/users/{id} → every store forgets the user, in-flight events included', () => {
  const stack = new E2eStack('privacy', {
    MODEL_NAME: 'sasrec',
    // the most verbose level: the log scan below reads everything the services say
    LOG_LEVEL: 'debug',
    INGEST_EXACTLY_ONCE: 'false',
    SCORER_MODEL_POLL_SECONDS: '0',
    KAFKA_TOPIC_PARTITIONS: '3',
  });
  const { ns, keys, brokers, store, services } = stack;
  // a raw user id that can only come from this test
  const alice = `alice-${randomUUID()}`;
  const aliceSessions = [`sa-${randomUUID()}`, `sb-${randomUUID()}`];
  const topic = (t: string) => stack.topic(t);
  let ingester: RunningService;
  let builder: RunningService;
  let trainer: RunningService;
  let redis: Redis;
  let producer: KafkaJS.Producer;
  let deletedAt = 0;

  const event = (ids: { userId?: string; sessionId?: string }, itemId: string, ts: number) => ({ eventId: `ev-${randomUUID()}`, ...ids, type: 'view', itemId, ts });
  const postEvents = async (events: unknown[]) => {
    const res = await fetch(`${ingester.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    assert.equal(res.status, 200, await res.text());
  };
  const metrics = async (s: RunningService) => (await fetch(s.metricsUrl)).text();

  before(async () => {
    await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 2, maxLen: 10, version: 'v0001' });
    redis = await stack.redis();
    // the ingester creates the topics (the deletions topic compacted); the others start after it
    ingester = await stack.start('ingester');
    [builder, , trainer] = await stack.startAll(['sequence-builder', 'embedding', ['trainer', { TRAIN_MODEL: 'pop', TRAIN_ISOLATION: 'inline', TRAIN_MIN_LENGTH: '3' }]]);
    producer = testKafka('seqrec-e2e', brokers).producer({ kafkaJS: { idempotent: true, acks: -1 } });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await stack.close();
  });

  it('builds the user a window, sessions, a vector, and a model trained on them', async () => {
    const t = Date.now() - 3_600_000;
    const events = [
      // anonymous browsing, then the login with that session; a second login from a fresh session
      event({ sessionId: aliceSessions[0] }, 'p1', t),
      event({ sessionId: aliceSessions[0] }, 'p2', t + 1_000),
      event({ userId: alice, sessionId: aliceSessions[0] }, 'p3', t + 2_000),
      event({ userId: alice }, 'p4', t + 3_000),
      event({ userId: alice, sessionId: aliceSessions[1] }, 'p5', t + 4_000),
    ];
    for (let u = 0; u < OTHERS; u++) for (let j = 0; j < 4; j++) events.push(event({ userId: `other-${u}` }, `p${(u + j) % 30}`, t + j * 1_000));
    await postEvents(events);
    await waitFor('alice\'s window of 5 events and her vector', async () => {
      const w = await fetch(`${builder.url}/v1/users/${alice}/sequence`);
      return w.status === 200 && ((await w.json()) as { events: unknown[] }).events.length === 5 && (await redis.exists(keys.userVector(alice))) === 1;
    }, 30_000);
    const run = await fetch(`${trainer.url}/v1/train`, { method: 'POST' });
    const text = await run.text();
    assert.equal(run.status, 202, text);
    const { runId } = JSON.parse(text) as { runId: string };
    await waitFor('the first training run', async () => ((await (await fetch(`${trainer.url}/v1/train/runs/${runId}`)).json()) as { status: string }).status === 'succeeded', 60_000);
    assert.equal((await store.versions('pop')).length, 1);
    assert.ok(keysHolding(await dumpNamespace(redis, keys), alice).length >= 5, 'window, vector, merged sessions, logins, session links');
  });

  it('DELETE /v1/users/{id} answers 200, publishes the record on the compacted topic, erases at once', async () => {
    const res = await fetch(`${ingester.url}/v1/users/${encodeURIComponent(alice)}`, { method: 'DELETE' });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const body = JSON.parse(text) as { status: string; at: number; erased: { keys: number; sessions: number } };
    assert.equal(body.status, 'deleted');
    assert.equal(body.erased.sessions, 2);
    deletedAt = body.at;
    const admin = new KafkaAdmin(brokers);
    try {
      const configs = await admin.describeTopicConfigs([topic(TOPICS.USER_DELETIONS)]);
      assert.equal(configs.get(topic(TOPICS.USER_DELETIONS))?.['cleanup.policy'], 'compact');
    } finally {
      await admin.disconnect();
    }
    const [record] = await readTopic(brokers, topic(TOPICS.USER_DELETIONS), { count: 1 });
    assert.deepEqual(parseUserDeletion(record!.value, record!.key?.toString() ?? null), { userId: alice, at: deletedAt, objection: false });
    // retried (a client that did not see the answer): 200 again, nothing left to erase
    const again = await fetch(`${ingester.url}/v1/users/${encodeURIComponent(alice)}`, { method: 'DELETE' });
    assert.equal(again.status, 200);
    deletedAt = ((await again.json()) as { at: number }).at;
  });

  it('events in flight when the user was deleted do not bring anything back', async () => {
    const t = deletedAt - 60_000;
    // accepted before the deletion, not yet applied: straight onto the events topic
    await producer.send({
      topic: topic(TOPICS.EVENTS),
      messages: [
        { key: alice, value: JSON.stringify(event({ userId: alice }, 'p6', t)) },
        { key: aliceSessions[0]!, value: JSON.stringify(event({ userId: alice, sessionId: aliceSessions[0] }, 'p7', t + 1)) },
      ],
    });
    // stamped before the deletion, still on its way through the raw path
    await postEvents([event({ userId: alice }, 'p8', t + 2)]);
    await waitFor('the builder to drop the 3 in-flight events', async () => metricValue(await metrics(builder), 'seqrec_sequence_builder_events_total', 'outcome="deleted"') >= 3, 30_000);
    // the trainer heard of the deletion: the retraining it scheduled read its data after it, and was promoted
    await waitFor('the retraining after the deletion', async () => {
      const current = await store.current('pop');
      return current !== null && Date.parse((await store.manifest('pop', current)).dataAt ?? '0') > deletedAt;
    }, 60_000);
  });

  it('finds nothing of the user in Redis: no key or value but the deletion marker, which holds the time', async () => {
    const dump = await dumpNamespace(redis, keys);
    assert.deepEqual(keysHolding(dump, alice), [keys.userDeleted(alice)]);
    for (const s of aliceSessions) assert.deepEqual(keysHolding(dump, s), [], `session ${s}`);
    assert.equal(await redis.get(keys.userDeleted(alice)), String(deletedAt));
    assert.equal((await fetch(`${builder.url}/v1/users/${alice}/sequence`)).status, 404);
    assert.ok(dump.some((d) => d.key === keys.userSequence('other-0')), 'the other users keep their windows');
  });

  it("finds nothing of the user in the events a trainer replays (the model's training data)", async () => {
    const r = await replayEvents({ brokers, namespace: ns });
    assert.ok(r.deletions >= 1);
    assert.equal(r.events.filter((e) => e.userId === alice || aliceSessions.includes(e.sessionId ?? '')).length, 0);
    // 3 with the user id before the deletion and the 3 in flight (anonymous events are never training data)
    assert.equal(r.deleted, 6);
    assert.equal(r.events.length, OTHERS * 4);
    const raw = await replayEvents({ brokers, namespace: ns, honourDeletions: false });
    assert.equal(raw.events.length - r.events.length, 6, 'the topic itself still holds them until its retention (the exposure window)');
  });

  it('the retraining saw no event of the user; the version trained before the deletion cannot be promoted', async () => {
    // by the time their data was read (version ids sort by the second only)
    const manifests = await Promise.all((await store.versions('pop')).map((v) => store.manifest('pop', v)));
    manifests.sort((a, b) => Date.parse(a.dataAt!) - Date.parse(b.dataAt!));
    const [before, retrained] = [manifests[0]!, manifests.at(-1)!];
    assert.equal(await store.latestDeletion(), deletedAt);
    assert.ok(Date.parse(retrained.dataAt!) > deletedAt, 'its data was read after the deletion');
    const users = (m: typeof retrained) => (m.details?.['dataset'] as { users: number; interactions: number }).users;
    assert.equal(users(retrained), OTHERS, 'the other users only');
    assert.ok(users(before) > OTHERS, `the first version had the user: ${JSON.stringify(before.details?.['dataset'])} ${before.data}`);
    assert.equal(await store.current('pop'), retrained.version, 'promoted: the version before it held the user');
    await assert.rejects(store.promote('pop', before.version), TrainedBeforeDeletionError);
  });

  it("no log line of any service holds the user's raw id", () => {
    for (const s of services) {
      const text = readFileSync(join(LOG_DIR, `${s.name}-${s.port}.log`), 'utf8');
      assert.ok(text.length > 0, `${s.name} logged something`);
      assert.equal(text.includes(alice), false, `${s.name}'s log holds the user id`);
      for (const sid of aliceSessions) assert.equal(text.includes(sid), false, `${s.name}'s log holds a session id of the user`);
    }
  });
});

describe('privacy: pseudonymised user ids and the objection to profiling, end to end', () => {
  const carol = `carol-${randomUUID()}`;
  const dave = `dave-${randomUUID()}`;
  const stack = new E2eStack('pseudo', {
    MODEL_NAME: 'sasrec',
    LOG_LEVEL: 'debug',
    INGEST_EXACTLY_ONCE: 'false',
    SCORER_MODEL_POLL_SECONDS: '0',
    KAFKA_TOPIC_PARTITIONS: '3',
    PRIVACY_PSEUDONYMIZE: 'true',
    PRIVACY_HMAC_KEY: `e2e-key-${randomUUID()}`,
  });
  const { ns, keys, brokers, store, services, env } = stack;
  let ingester: RunningService;
  let builder: RunningService;
  let embedding: RunningService;
  let scorer: RunningService;
  let redis: Redis;
  const event = (userId: string, itemId: string, ts: number, extra: Record<string, unknown> = {}) => ({ eventId: `ev-${randomUUID()}`, userId, type: 'view', itemId, ts, ...extra });
  const post = async (path: string, body?: unknown, method = 'POST') => {
    const res = await fetch(`${ingester.url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const get = async (s: RunningService, path: string) => {
    const res = await fetch(`${s.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 2, maxLen: 10, version: 'v0001' });
    redis = await stack.redis();
    ingester = await stack.start('ingester');
    [builder, embedding, scorer] = await stack.startAll(['sequence-builder', 'embedding', 'scorer']);
  });

  after(() => stack.close());

  it('a raw user id finds its state through every lookup, which is stored under the pseudonym only', async () => {
    const t = Date.now() - 600_000;
    const res = await post('/v1/events', [event(carol, 'p1', t), event(carol, 'p2', t + 1_000), event(carol, 'p3', t + 2_000), { ...event(carol, 'p4', t + 3_000), type: 'teleport' }]);
    assert.equal(res.status, 200);
    assert.deepEqual([res.body['accepted'], res.body['rejected']], [3, 1]);
    await waitFor("carol's window and vector", async () => (await get(builder, `/v1/users/${carol}/sequence`)).status === 200 && (await get(embedding, `/v1/users/${carol}/vector`)).status === 200, 30_000);
    const seq = await get(builder, `/v1/users/${carol}/sequence`);
    assert.deepEqual([seq.body['userId'], (seq.body['events'] as Array<{ itemId: string }>).map((e) => e.itemId)], [carol, ['p1', 'p2', 'p3']]);
    const recs = await get(scorer, `/v1/users/${carol}/recommendations?k=3`);
    assert.equal(recs.status, 200);
    assert.equal(recs.body['userId'], carol, 'answered under the id the caller gave');
    assert.ok(['live_window', 'stored_vector'].includes(recs.body['scoredFrom'] as string), `personalised: ${String(recs.body['scoredFrom'])}`);
    assert.equal((recs.body['sequence'] as { events: number }).events, 3);
    const ranked = await fetch(`${scorer.url}/v1/rank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: carol, items: ['p4', 'p9'] }) });
    assert.equal(((await ranked.json()) as { userId: string }).userId, carol);
    const dump = await dumpNamespace(redis, keys);
    assert.deepEqual(keysHolding(dump, carol), [], 'no Redis key or value holds the raw id');
    assert.ok(dump.some((d) => /:user:\{p1\.[A-Za-z0-9_-]{43}\}:seq$/.test(d.key)), 'the window is under the pseudonym');
  });

  it('an objecting user gets non-personalised answers, and their later events are neither windowed nor kept', async () => {
    const t = Date.now() - 600_000;
    assert.equal((await post('/v1/events', [event(dave, 'p5', t), event(dave, 'p6', t + 1_000)])).status, 200);
    await waitFor("dave's window", async () => (await get(builder, `/v1/users/${dave}/sequence`)).status === 200, 30_000);
    const objected = await post(`/v1/users/${dave}/objection`, undefined, 'PUT');
    assert.equal(objected.status, 200, JSON.stringify(objected.body));
    assert.equal(objected.body['status'], 'objected');
    assert.equal((await post('/v1/events', [event(dave, 'p7', Date.now())])).status, 200);
    await waitFor('the builder to drop the objector\'s event', async () => metricValue(await (await fetch(builder.metricsUrl)).text(), 'seqrec_sequence_builder_events_total', 'outcome="deleted"') >= 1, 30_000);
    assert.equal((await get(builder, `/v1/users/${dave}/sequence`)).status, 404);
    assert.equal((await get(embedding, `/v1/users/${dave}/vector`)).status, 404);
    const recs = await get(scorer, `/v1/users/${dave}/recommendations?k=3`);
    assert.deepEqual([recs.body['scoredFrom'], recs.body['fallbackReason']], ['popularity', 'unknown_user'], 'not personalised');
    assert.deepEqual(keysHolding(await dumpNamespace(redis, keys), dave), []);
    const r = await replayEvents({ brokers, namespace: ns });
    assert.equal(r.events.filter((e) => e.itemId === 'p5' || e.itemId === 'p6' || e.itemId === 'p7').length, 0, 'no event of the objector is training data');
    // withdrawn: events from now on count again
    assert.equal((await post(`/v1/users/${dave}/objection`, undefined, 'DELETE')).body['status'], 'withdrawn');
    assert.equal((await post('/v1/events', [event(dave, 'p8', Date.now() + 1_000)])).status, 200);
    await waitFor("dave's new window", async () => (await get(builder, `/v1/users/${dave}/sequence`)).status === 200, 30_000);
    assert.deepEqual(((await get(builder, `/v1/users/${dave}/sequence`)).body['events'] as Array<{ itemId: string }>).map((e) => e.itemId), ['p8']);
  });

  it('DELETE /v1/users/{raw id} erases the pseudonymised state', async () => {
    const res = await post(`/v1/users/${carol}`, undefined, 'DELETE');
    assert.equal(res.status, 200);
    assert.equal((await get(builder, `/v1/users/${carol}/sequence`)).status, 404);
    // the pseudonym, as docs/privacy.md defines it: nothing of it is left but its deletion marker
    const pseudonym = `p1.${createHmac('sha256', env.PRIVACY_HMAC_KEY).update(carol).digest('base64url')}`;
    assert.deepEqual(keysHolding(await dumpNamespace(redis, keys), pseudonym), [keys.userDeleted(pseudonym)]);
  });

  it('no topic seqrec writes, no Redis key and no log line holds a raw user id', async () => {
    const topics = [TOPICS.CLICKSTREAM_RAW, TOPICS.EVENTS, TOPICS.EVENTS_DLQ, TOPICS.SEQUENCE_UPDATES, TOPICS.USER_DELETIONS].map((t) => `${ns}.${t}`);
    const read = await Promise.all(topics.map((t) => readTopic(brokers, t, { count: Number.POSITIVE_INFINITY, timeoutMs: 5_000 })));
    const seen = read.map((messages) => messages.length);
    assert.ok(seen[0]! > 0 && seen[1]! > 0 && seen[2]! > 0 && seen[4]! > 0, `every topic read: ${topics.map((t, i) => `${t} ${seen[i]}`).join(', ')}`);
    for (const [i, messages] of read.entries()) {
      for (const m of messages) {
        for (const raw of [carol, dave]) {
          assert.equal(m.key?.includes(raw) ?? false, false, `${topics[i]}: a key holds a raw user id`);
          assert.equal(m.value?.includes(raw) ?? false, false, `${topics[i]}@${m.partition}:${m.offset}: a value holds a raw user id`);
        }
      }
    }
    const dump = await dumpNamespace(redis, keys);
    for (const raw of [carol, dave]) assert.deepEqual(keysHolding(dump, raw), []);
    for (const s of services) {
      const text = readFileSync(join(LOG_DIR, `${s.name}-${s.port}.log`), 'utf8');
      for (const raw of [carol, dave]) assert.equal(text.includes(raw), false, `${s.name}'s log holds a raw user id`);
    }
  });
});
