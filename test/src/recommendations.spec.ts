/**
 * Recommendations end to end, every service as its own process against real Kafka and Redis:
 * ingester, sequence-builder, embedding, scorer and trainer. The test writes a small SASRec trained
 * on a chain p0 → p1 → … into a model store and promotes it; a user's clicks published to the raw
 * topic change their recommendations (the next item of the chain) within a bounded time; a newly
 * promoted model announced on the models topic is picked up by the scorer while a load loop runs,
 * with zero failed requests. The scorer runs as two worker processes (SCORER_WORKERS=2).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { TOPICS, type ModelPromotedV1 } from '@seqrec/contracts';
import { testKafka, waitFor } from '@seqrec/kafka/testing';
import { createTestArtifact } from '@seqrec/scoring/testing';
import type { RunningService } from '@seqrec/testing';
import { E2eStack } from './stack';

const ITEMS = Array.from({ length: 30 }, (_, i) => `p${i}`);
const CHAIN = Array.from({ length: 300 }, (_, u) => Array.from({ length: 12 }, (_, j) => (u + j) % ITEMS.length));
/** Bound on click → recommendation through the whole pipeline (it takes well under a second). */
const FRESHNESS_BOUND_MS = 10_000;

describe('recommendations: raw clicks → ingester → builder → Redis → scorer, with hot model swap', () => {
  const stack = new E2eStack('recs', { MODEL_NAME: 'sasrec', INGEST_EXACTLY_ONCE: 'false', SCORER_MODEL_POLL_SECONDS: '0' });
  const { ns, store } = stack;
  const topic = (t: string) => stack.topic(t);
  let producer: KafkaJS.Producer;
  let first: { version: string };
  let scorer: RunningService;
  let embedding: RunningService;
  let seq = 0;

  before(async () => {
    first = await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 8, maxLen: 10, version: 'v0001' });
    await stack.createTopics(3);
    producer = testKafka('seqrec-e2e', stack.brokers).producer({ kafkaJS: { idempotent: true, acks: -1 } });
    await producer.connect();
    [, , embedding, scorer] = await stack.startAll([
      'ingester',
      'sequence-builder',
      'embedding',
      // Two scorer processes sharing the port (SCORER_WORKERS): every test below also holds for a
      // cluster of workers, the hot swap included (each worker must see the announcement).
      ['scorer', { SCORER_WORKERS: '2' }],
      'trainer',
    ]);
    // The scorer answers as soon as one worker is ready: wait for both, so that every test runs
    // against the two (the swap especially: each worker must take the announcement itself).
    await waitFor('both scorer workers to serve', async () => (await served()).join() === `0:${first.version},1:${first.version}`, 60_000);
  });

  /** `<worker>:<version>` each scorer worker serves, from one /metrics scrape (any worker answers for all). */
  async function served(): Promise<string[]> {
    const metrics = await (await fetch(scorer.metricsUrl)).text();
    return [...metrics.matchAll(/seqrec_scorer_model_info\{[^}]*version="([^"]+)"[^}]*worker="(\d)"\} 1/g)].map((m) => `${m[2]}:${m[1]}`).sort();
  }

  after(async () => {
    await producer?.disconnect();
    await stack.close();
  });

  async function publishClicks(userId: string, items: string[]): Promise<number> {
    const ts = Date.now();
    await producer.send({
      topic: topic(TOPICS.CLICKSTREAM_RAW),
      messages: items.map((itemId, i) => ({
        key: userId,
        value: JSON.stringify({ eventId: `${ns}-${seq++}`, userId, type: 'click', itemId, ts: ts - (items.length - 1 - i) * 1000 }),
      })),
    });
    return ts;
  }

  async function recommendations(userId: string) {
    const res = await fetch(`${scorer.url}/v1/users/${userId}/recommendations?k=5`);
    assert.equal(res.status, 200);
    return (await res.json()) as {
      items: Array<{ itemId: string }>;
      model: { version: string };
      scoredFrom: string;
      fallback?: string;
      sequence: { events: number; lastEventTs: number };
    };
  }

  it('serves popularity to a user it has never seen, then the next item of their live clicks', async () => {
    const cold = await recommendations('e2e-alice');
    assert.equal(cold.fallback, 'popularity');
    assert.equal(cold.model.version, first.version);

    await publishClicks('e2e-alice', ['p3', 'p4', 'p5']);
    const warm = await waitFor('recommendations from the clicks', async () => {
      const r = await recommendations('e2e-alice');
      return r.sequence.events === 3 ? r : undefined;
    });
    assert.equal(warm.fallback, undefined);
    assert.equal(warm.items[0]!.itemId, 'p6');

    const sent = Date.now();
    await publishClicks('e2e-alice', ['p10']);
    const changed = await waitFor(
      'recommendations to follow the newest click',
      async () => {
        const r = await recommendations('e2e-alice');
        return r.sequence.events === 4 ? r : undefined;
      },
      FRESHNESS_BOUND_MS,
    );
    const tookMs = Date.now() - sent;
    assert.equal(changed.items[0]!.itemId, 'p11', JSON.stringify(changed.items));
    assert.ok(tookMs < FRESHNESS_BOUND_MS, `took ${tookMs} ms`);
    console.log(`# click → changed recommendation: ${tookMs} ms`);
  });

  it('keeps a current user vector in Redis (embedding service), which the scorer then uses', async () => {
    const v = await waitFor('a current user vector', async () => {
      const res = await fetch(`${embedding.url}/v1/users/e2e-alice/vector`);
      if (res.status !== 200) return undefined;
      const body = (await res.json()) as { current: boolean; model: { version: string } };
      return body.current ? body : undefined;
    });
    assert.equal(v.model.version, first.version);
    const features = (await (await fetch(`${embedding.url}/v1/users/e2e-alice/features`)).json()) as { events: number; counts: Record<string, number> };
    assert.equal(features.events, 4);
    assert.equal(features.counts.click, 4);
    const r = await waitFor('the scorer to use the stored vector', async () => {
      const x = await recommendations('e2e-alice');
      return x.scoredFrom === 'stored_vector' ? x : undefined;
    });
    assert.equal(r.items[0]!.itemId, 'p11', 'the stored (int8) vector gives the same best item as the live window');
    // Re-ranking a caller's candidates uses the same current vector (no forward pass).
    const res = await fetch(`${scorer.url}/v1/rank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'e2e-alice', items: ['p2', 'p11', 'p7', 'not-an-item'], sort: true }),
    });
    assert.equal(res.status, 200);
    const ranked = (await res.json()) as { scoredFrom: string; items: Array<{ itemId: string; score: number | null }> };
    assert.equal(ranked.scoredFrom, 'stored_vector');
    assert.deepEqual(ranked.items.map((x) => x.itemId).slice(0, 1), ['p11']);
    assert.equal(ranked.items[3]!.score, null, 'an unknown candidate has no score and comes last');
  });

  it('switches to an announced model with zero failed requests during the switch', async () => {
    const second = await createTestArtifact(store, { items: ITEMS, version: 'v0002', seed: 5 });
    const statuses = new Map<number, number>();
    const versions = new Set<string>();
    let stop = false;
    const loop = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${scorer.url}/v1/users/e2e-alice/recommendations?k=5`);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) versions.add(((await res.json()) as { model: { version: string } }).model.version);
          else await res.arrayBuffer();
        } catch {
          statuses.set(-1, (statuses.get(-1) ?? 0) + 1);
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    await new Promise((r) => setTimeout(r, 300));
    const announcement: ModelPromotedV1 = { model: 'sasrec', version: second.version, uri: store.location('sasrec', second.version), metrics: {}, promotedAt: Date.now() };
    await producer.send({ topic: topic(TOPICS.MODELS), messages: [{ key: 'sasrec', value: JSON.stringify(announcement) }] });
    await waitFor('the scorer to serve the new version', () => versions.has(second.version), 30_000);
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(loops);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.deepEqual([...statuses.keys()], [200], `statuses: ${JSON.stringify([...statuses])}`);
    assert.ok(versions.has(first.version) && versions.has(second.version));
    console.log(`# hot swap under load: ${total} requests, all 200`);
    // Both workers switched: any worker's scrape shows each worker's model.
    await waitFor('both scorer workers to serve the new version', async () => (await served()).join() === `0:${second.version},1:${second.version}`, 30_000);
    const reported = await served();
    assert.deepEqual(reported, [`0:${second.version}`, `1:${second.version}`]);
    assert.deepEqual([...versions].sort(), [first.version, second.version].sort());
  });
});
