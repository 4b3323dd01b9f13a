/**
 * The pipeline on a Redis Cluster: the ingester and the sequence-builder as their own processes,
 * given REDIS_CLUSTER_NODES (the 3-master cluster of `scripts/infra.sh up redis-cluster`) instead
 * of REDIS_URL. Events go in through `POST /v1/events`, with producer retries, so the
 * de-duplication claims (one key per event id), the item dictionary, and the builder's pipelined
 * window reads and conditional writes (one key per user) all run against keys spread over every
 * master. Every user's window, read back from the cluster, must be exact, and nothing may land in
 * the single Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisKeys, type EventType } from '@seqrec/contracts';
import { Rng } from '@seqrec/random';
import { brokersFromEnv, deleteNamespaceTopics, uniqueName } from '@seqrec/kafka/testing';
import { RedisItemDictionary, RedisSequenceStore, createRedis, createRedisClient, scanKeys, type RedisClient } from '@seqrec/redis';
import { deleteNamespace, redisUrlFromEnv, redisTestTargets } from '@seqrec/redis/testing';
import { expectedWindows, logTails, startService, waitForWindows, type RunningService } from '@seqrec/testing';

const WINDOW = 20;
const USERS = 80;
const TYPES: EventType[] = ['view', 'view', 'click', 'add_to_cart', 'purchase', 'search'];

interface Sent {
  eventId: string;
  userId: string;
  type: EventType;
  itemId?: string;
  query?: string;
  ts: number;
}

/** Posts of at most 100 events, users interleaved; about 8% of the events are sent again in a later post. */
function buildTraffic() {
  const rng = new Rng(16);
  const now = Date.now();
  const perUser = Array.from({ length: USERS }, (_, u) => {
    let ts = now - 2 * 86_400_000 + Math.floor(rng.float() * 3_600_000);
    return Array.from({ length: 5 + Math.floor(rng.float() * 35) }, (__, i): Sent => {
      ts += 1_000 + Math.floor(rng.float() * 90_000);
      const type = TYPES[Math.floor(rng.float() * TYPES.length)]!;
      const userId = `user-${u}`;
      return { eventId: `${userId}-e${i}`, userId, type, ts, ...(type === 'search' ? { query: 'shoes' } : { itemId: `item-${Math.floor(rng.float() ** 2 * 300)}` }) };
    });
  });
  const arrival: Sent[] = [];
  const cursors = perUser.map(() => 0);
  for (let left = perUser.reduce((n, s) => n + s.length, 0); left > 0; ) {
    const u = Math.floor(rng.float() * USERS);
    if (cursors[u]! < perUser[u]!.length) {
      arrival.push(perUser[u]![cursors[u]!++]!);
      left--;
    }
  }
  const posts: Sent[][] = [];
  for (let i = 0; i < arrival.length; i += 100) posts.push(arrival.slice(i, i + 100));
  let retries = 0;
  for (let p = 1; p < posts.length; p++) {
    for (const e of posts[p - 1]!) {
      if (rng.float() < 0.08) {
        posts[p]!.push(e);
        retries++;
      }
    }
  }
  return { posts, retries, unique: arrival.length, expected: expectedWindows(arrival, WINDOW) };
}

const cluster = redisTestTargets().find((t) => t.name === 'cluster')!;

describe('pipeline on a Redis Cluster: POST /v1/events → ingester → events topic → sequence-builder → cluster', () => {
  const ns = uniqueName('cluster');
  const keys = new RedisKeys(ns);
  const traffic = buildTraffic();
  let redis: RedisClient;
  let ingester: RunningService;
  let builder: RunningService;

  before(async () => {
    redis = createRedisClient({ target: cluster.target, connectionName: 'seqrec-e2e' });
    await redis.connect();
    const nodes = cluster.target.kind === 'cluster' ? cluster.target.nodes.map((n) => `${n.host}:${n.port}`).join(',') : '';
    const env = {
      KAFKA_BROKERS: brokersFromEnv().join(','),
      KAFKA_NAMESPACE: ns,
      REDIS_CLUSTER_NODES: nodes,
      REDIS_PREFIX: ns,
      SEQUENCE_LENGTH: String(WINDOW),
      LOG_LEVEL: 'warn',
    };
    [ingester, builder] = await Promise.all([startService('ingester', env), startService('sequence-builder', env)]);
  });

  after(async () => {
    await Promise.all([ingester?.stop(), builder?.stop()]);
    await deleteNamespaceTopics(brokersFromEnv(), ns);
    if (redis) {
      await deleteNamespace(redis, keys);
      await redis.quit();
    }
  });

  it('accepts each event once (retries are duplicates) and builds every window exactly', async () => {
    let accepted = 0;
    let duplicates = 0;
    for (const post of traffic.posts) {
      const res = await fetch(`${ingester.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(post) });
      assert.equal(res.status, 200, await res.clone().text());
      const body = (await res.json()) as { accepted: number; duplicates: number; rejected: number };
      assert.equal(body.rejected, 0);
      accepted += body.accepted;
      duplicates += body.duplicates;
    }
    assert.deepEqual({ accepted, duplicates }, { accepted: traffic.unique, duplicates: traffic.retries });
    assert.ok(traffic.retries > 0, 'the traffic had retries');

    await waitForWindows(new RedisSequenceStore(redis, keys, { ttlMs: 0 }), new RedisItemDictionary(redis, keys), traffic.expected).catch(async (err: Error) => {
      // what a rare CI failure (a window short of its newest event after 60 s) needs to be diagnosed
      const lag = (await (await fetch(builder.metricsUrl)).text()).split('\n').filter((l) => l.startsWith('seqrec_kafka_consumer_lag_messages{'));
      console.log(`# windows incomplete; the builder's consumer lag:\n${lag.join('\n')}\n# what the services logged last:\n${logTails([ingester, builder])}`);
      throw err;
    });

    const [user, exp] = [...traffic.expected][0]!;
    const res = await fetch(`${builder.url}/v1/users/${user}/sequence`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { events: unknown[] }).events.length, exp.length);
  });

  it('keeps nothing in the single Redis', async () => {
    const single = createRedis({ url: redisUrlFromEnv(), connectionName: 'seqrec-e2e' });
    await single.connect();
    try {
      let n = 0;
      for await (const { keys: found } of scanKeys(single, keys.all())) n += found.length;
      assert.equal(n, 0);
    } finally {
      await single.quit();
    }
  });
});
