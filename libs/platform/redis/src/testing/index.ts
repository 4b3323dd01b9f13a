import { randomUUID } from 'node:crypto';
import { RedisKeys } from '@seqrec/contracts';
import { parseHostPorts, type RedisTarget } from '@seqrec/config';
import { scanKeys, unlinkMatching, type RedisClient } from '../cluster';
import { createRedisClient } from '../connection';

/**
 * Helpers for tests against a real Redis: the single server of `scripts/infra.sh` (REDIS_URL) and
 * its 3-master Redis Cluster (`infra.sh up redis-cluster`, REDIS_CLUSTER_NODES).
 */
export function redisUrlFromEnv(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set: run integration tests through `npm test` (it starts Kafka and Redis)');
  return url;
}

/** `host:port,...` of the test Redis Cluster, or undefined when REDIS_CLUSTER_NODES is not set. */
export function redisClusterNodesFromEnv(): string | undefined {
  return process.env.REDIS_CLUSTER_NODES?.trim() || undefined;
}

export interface RedisTestTarget {
  /** `single` or `cluster`, for test names. */
  name: 'single' | 'cluster';
  target: RedisTarget;
}

/**
 * The targets a Redis test suite runs against: the single server (REDIS_URL, required) and the
 * Cluster (REDIS_CLUSTER_NODES, required: `npm test` sets it; without it this throws, saying how to start one).
 */
export function redisTestTargets(): RedisTestTarget[] {
  const nodes = redisClusterNodesFromEnv();
  if (!nodes) {
    throw new Error('REDIS_CLUSTER_NODES is not set: `bash scripts/infra.sh up redis-cluster; eval "$(bash scripts/infra.sh env redis-cluster)"` (npm test does)');
  }
  return [
    { name: 'single', target: { kind: 'single', url: redisUrlFromEnv() } },
    { name: 'cluster', target: { kind: 'cluster', nodes: parseHostPorts(nodes) } },
  ];
}

/**
 * A connection (to REDIS_URL's server unless `target` says otherwise) and a fresh key namespace for
 * one test; `cleanup()` deletes the namespace and disconnects.
 */
export async function testRedis(
  target: RedisTarget = { kind: 'single', url: redisUrlFromEnv() },
): Promise<{ redis: RedisClient; keys: RedisKeys; cleanup: () => Promise<void> }> {
  const redis = createRedisClient({ target, connectionName: 'seqrec-test' });
  await redis.connect();
  const keys = new RedisKeys(`test-${randomUUID()}`);
  return {
    redis,
    keys,
    cleanup: async () => {
      await deleteNamespace(redis, keys);
      await redis.quit();
    },
  };
}

/** Deletes every key of the namespace (on every master of a Cluster). */
export async function deleteNamespace(redis: RedisClient, keys: RedisKeys): Promise<void> {
  await unlinkMatching(redis, keys.all());
}

/** One key of a namespace with its whole value, as {@link dumpNamespace} reads it. */
export interface DumpedKey {
  key: string;
  type: string;
  /** Every byte of the value: a string's, each member / field / element of a set, hash, sorted set or list. */
  parts: Buffer[];
}

/**
 * Every key of the namespace with its whole value (on every master of a Cluster), for tests that
 * must find a piece of data nowhere (a deleted user's id in any key or value).
 */
export async function dumpNamespace(redis: RedisClient, keys: RedisKeys): Promise<DumpedKey[]> {
  const out: DumpedKey[] = [];
  for await (const { node, keys: page } of scanKeys(redis, keys.all())) {
    for (const key of page) {
      const type = await node.type(key);
      let parts: Buffer[] = [];
      if (type === 'string') parts = [(await node.getBuffer(key)) ?? Buffer.alloc(0)];
      else if (type === 'set') parts = await node.smembersBuffer(key);
      else if (type === 'hash') parts = await node.hgetallBuffer(key).then((h) => Object.entries(h).flatMap(([f, v]) => [Buffer.from(f), v]));
      else if (type === 'zset') parts = await node.zrangeBuffer(key, 0, -1);
      else if (type === 'list') parts = await node.lrangeBuffer(key, 0, -1);
      else if (type === 'none') continue; // expired meanwhile
      else throw new Error(`dumpNamespace: key ${key} has type ${type}, not read`);
      out.push({ key, type, parts });
    }
  }
  return out;
}

/** The keys of a dump whose name or value holds `needle` (as UTF-8 bytes). */
export function keysHolding(dump: DumpedKey[], needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  return dump.filter((d) => d.key.includes(needle) || d.parts.some((p) => p.includes(bytes))).map((d) => d.key);
}
