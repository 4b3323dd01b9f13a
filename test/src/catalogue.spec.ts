/**
 * The item catalogue end to end, every service as its own process against real Kafka and Redis:
 * `POST /v1/items` on the ingester → the compacted items topic → the catalogue consumer (Redis) and
 * the scorer's view → the next recommendations honour the change. Measures the freshness (post →
 * the scorer's answer reflects it), checks the topic is created compacted, that bad input gets a
 * 400 over HTTP and a dead letter with its reason on the topic path, and that a restarted scorer
 * rebuilds its view from the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { CATALOGUE_BUCKETS, TOPICS, catalogueBucket, decodeItem } from '@seqrec/contracts';
import { KafkaAdmin } from '@seqrec/kafka';
import { readTopic, testKafka, waitFor } from '@seqrec/kafka/testing';
import { createTestArtifact } from '@seqrec/scoring/testing';
import type { RunningService } from '@seqrec/testing';
import type { Redis } from 'ioredis';
import { E2eStack } from './stack';

const ITEMS = Array.from({ length: 30 }, (_, i) => `p${i}`);
const CHAIN = Array.from({ length: 200 }, (_, u) => Array.from({ length: 10 }, (_, j) => (u + j) % ITEMS.length));
/** The freshness budget: a catalogue change is honoured by the scorer within this (it takes well under a second). */
const FRESHNESS_BUDGET_MS = 5_000;

interface Recommendations {
  items: Array<{ itemId: string; score: number }>;
  scoredFrom: string;
}

describe('catalogue: POST /v1/items → items topic → Redis and the scorer → rules honoured', () => {
  const stack = new E2eStack('cat', { MODEL_NAME: 'sasrec', SCORER_MODEL_POLL_SECONDS: '0' });
  const { keys, brokers, store } = stack;
  const topic = (t: string) => stack.topic(t);
  // one instance id, so a restarted scorer's per-instance groups resume where it stopped
  const scorerEnv = { INSTANCE_ID: `${stack.ns}-scorer` };
  let redis: Redis;
  let producer: KafkaJS.Producer;
  let ingester: RunningService;
  let scorer: RunningService;

  before(async () => {
    await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 2, maxLen: 10, version: 'v0001' });
    redis = await stack.redis();
    // The ingester creates the topics (the items topic compacted); the scorer starts after it.
    ingester = await stack.start('ingester');
    scorer = await stack.start('scorer', scorerEnv);
    producer = testKafka('seqrec-e2e', brokers).producer({ kafkaJS: { idempotent: true, acks: -1 } });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await stack.close();
  });

  const post = (path: string, body: unknown, method = 'POST') =>
    fetch(`${ingester.url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  const recommend = async (query = ''): Promise<Recommendations> => (await (await fetch(`${scorer.url}/v1/users/nobody/recommendations?k=5${query}`)).json()) as Recommendations;

  it('creates the items topic compacted', async () => {
    const admin = new KafkaAdmin(brokers);
    try {
      const configs = await admin.describeTopicConfigs([topic(TOPICS.ITEMS)]);
      assert.equal(configs.get(topic(TOPICS.ITEMS))?.['cleanup.policy'], 'compact');
    } finally {
      await admin.disconnect();
    }
  });

  it('a posted change is stored in Redis and honoured by the scorer within the freshness budget; k results kept', async () => {
    const before = await recommend();
    assert.equal(before.scoredFrom, 'popularity', 'an unknown user: the popularity fallback honours the rules too');
    assert.equal(before.items.length, 5);
    const top = before.items[0]!.itemId;
    const t0 = performance.now();
    const res = await post('/v1/items', { itemId: top, title: 'Sold out', category: 'Shop/Top', price: 12.5, available: false, attributes: { colour: 'red' } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { accepted: number }).accepted, 1);
    const after = await waitFor<Recommendations>('the scorer to leave the unavailable item out', async () => {
      const r = await recommend();
      return r.items.some((i) => i.itemId === top) ? false : r;
    }, FRESHNESS_BUDGET_MS);
    const ms = performance.now() - t0;
    console.log(`catalogue change honoured by the scorer ${ms.toFixed(0)} ms after POST /v1/items (Kafka, Redis, separate processes)`);
    assert.equal(after.items.length, 5, 'the next best item fills the place');
    assert.deepEqual(after.items.slice(0, 4).map((i) => i.itemId), before.items.slice(1).map((i) => i.itemId));
    const stored = await waitFor<Buffer>('the item in Redis', async () => (await redis.hgetBuffer(keys.catalogue(catalogueBucket(top)), top)) ?? false, 5_000);
    assert.deepEqual(decodeItem(top, stored), { itemId: top, title: 'Sold out', category: 'Shop/Top', price: 12.5, available: false, attributes: { colour: 'red' }, updatedAt: decodeItem(top, stored).updatedAt });
    // the same request again (a client retry): the same catalogue
    assert.equal((await post('/v1/items', { itemId: top, title: 'Sold out', category: 'Shop/Top', price: 12.5, available: false, attributes: { colour: 'red' } })).status, 200);
    assert.deepEqual((await recommend('&available=false&category=Shop')).items.map((i) => i.itemId), [top]);
    // the rules in the bodies of rank and batch
    const scorerPost = async (path: string, body: unknown) =>
      (await (await fetch(`${scorer.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Record<string, unknown>;
    const ranked = (await scorerPost('/v1/rank', { userId: 'nobody', items: [top, 'p1', 'p2', 'nope'], rules: { onlyAvailable: true } })) as { items: Array<{ itemId: string }> };
    assert.deepEqual(ranked.items.map((i) => i.itemId), ['p1', 'p2', 'nope'].filter((id) => id !== top), 'the unavailable candidate left out, an unknown one kept');
    const batch = (await scorerPost('/v1/recommendations/batch', { userIds: ['nobody'], k: 3, rules: { onlyAvailable: false, categories: ['Shop/Top'] } })) as { results: Recommendations[] };
    assert.deepEqual(batch.results[0]!.items.map((i) => i.itemId), [top]);
    const refused = await fetch(`${scorer.url}/v1/users/nobody/recommendations?excludeInteracted=hover`);
    assert.equal(refused.status, 400);
  });

  it('bad input: a 400 with reason and field over HTTP, a dead letter with its reason from both paths', async () => {
    const bad = await post('/v1/items', [{ itemId: 'x1', price: 'cheap' }]);
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { reason: string; field: string };
    assert.deepEqual([body.reason, body.field], ['invalid_field', '/0/price']);
    const long = await post(`/v1/items/${'a'.repeat(129)}`, undefined, 'DELETE');
    assert.equal(long.status, 400, 'an id over 128 characters');
    assert.equal(((await long.json()) as { field: string }).field, 'itemId');
    await producer.send({ topic: topic(TOPICS.ITEMS), messages: [{ key: 'x2', value: '{"itemId":"x3"}' }, { key: 'x4', value: '{"itemId":"x4","available":"yes"}' }] });
    const letters = await readTopic(brokers, topic(TOPICS.EVENTS_DLQ), { count: 3, timeoutMs: 15_000 });
    const reasons = letters.map((m) => JSON.parse(m.value!.toString()) as { reason: string; field?: string; itemId?: string; source: { kind: string } });
    assert.deepEqual(
      reasons.map((l) => [l.source.kind, l.reason, l.field, l.itemId]).sort(),
      [
        ['http', 'invalid_field', '/price', 'x1'],
        ['kafka', 'invalid_field', '/available', 'x4'],
        ['kafka', 'invalid_field', '/itemId', 'x3'],
      ].sort(),
    );
    for (let b = 0; b < CATALOGUE_BUCKETS; b++) for (const id of ['x1', 'x3', 'x4']) assert.equal(await redis.hexists(keys.catalogue(b), id), 0);
  });

  it('a deletion (tombstone) reaches the scorer; a restarted scorer rebuilds its view from the store', async () => {
    // the item the first test marked unavailable: first when unavailable items are asked for
    const marked = (await recommend('&available=false')).items[0]!.itemId;
    assert.ok(!(await recommend()).items.some((i) => i.itemId === marked));
    // The same instance again: its consumer group resumes after what it had read, so the item's
    // state can only come from the catalogue store's snapshot.
    await scorer.stop();
    scorer = await stack.start('scorer', scorerEnv);
    const fresh = await recommend();
    assert.equal(fresh.items.length, 5);
    assert.ok(!fresh.items.some((i) => i.itemId === marked), 'the restarted scorer read the catalogue from Redis');
    assert.equal((await post(`/v1/items/${marked}`, undefined, 'DELETE')).status, 200);
    await waitFor('the deleted item back', async () => (await recommend()).items[0]!.itemId === marked, FRESHNESS_BUDGET_MS);
  });
});
