import { Cluster, type ChainableCommander, type Redis } from 'ioredis';

/**
 * A single Redis or a Redis Cluster. Every store takes either: ioredis gives both the same command
 * API, scripts defined with `defineCommand` included. What differs is handled here: a Cluster
 * refuses a pipeline whose keys are served by different nodes, and keyspace-wide commands (SCAN,
 * INFO, FLUSHDB) see only the node they are sent to.
 */
export type RedisClient = Redis | Cluster;

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/** Number of hash slots of a Redis Cluster. */
export const CLUSTER_SLOTS = 16_384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    table[i] = c;
  }
  return table;
})();

/**
 * The cluster hash slot of `key`: CRC16 (XMODEM) of its hash tag (what is between the first `{`
 * and the next `}`, when not empty) or of the whole key, modulo 16384, as the Redis Cluster
 * specification defines it (checked against CLUSTER KEYSLOT in the integration tests).
 */
export function keySlot(key: string): number {
  let hashed = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed, 'utf8')) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc % CLUSTER_SLOTS;
}

/** One command's reply in a pipeline: its error, or its result. */
export type PipelineReply = [Error | null, unknown];

/**
 * Sends one command per key (`add` queues it on `pipe`) pipelined, and returns the replies in key
 * order. On a single Redis: one pipeline, one write, one round trip. On a Cluster, ioredis rejects a
 * pipeline whose keys are served by different nodes ("All keys in the pipeline should belong to
 * the same slots allocation group"), so the keys are grouped by the nodes serving their slots, one
 * pipeline per group, all sent at once: still one round trip, one write per node. Grouping and
 * sending happen in the same tick, so they see the same slot map; before the map is known (not
 * connected yet) the keys are grouped by slot. Each command must touch `key` only (or keys of its
 * slot).
 */
export async function pipelinePerKey(
  redis: RedisClient,
  keys: readonly string[],
  add: (pipe: ChainableCommander, key: string, index: number) => void,
): Promise<PipelineReply[]> {
  if (keys.length === 0) return [];
  if (!isCluster(redis)) {
    const pipe = redis.pipeline();
    for (let i = 0; i < keys.length; i++) add(pipe, keys[i]!, i);
    return (await pipe.exec()) ?? [];
  }
  const groups = new Map<string, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const slot = keySlot(keys[i]!);
    const nodes = redis.slots[slot];
    const group = nodes && nodes.length > 0 ? nodes.join(',') : `slot ${slot}`;
    const members = groups.get(group);
    if (members) members.push(i);
    else groups.set(group, [i]);
  }
  const replies = new Array<PipelineReply>(keys.length);
  await Promise.all(
    [...groups.values()].map(async (members) => {
      const pipe = redis.pipeline();
      for (const i of members) add(pipe, keys[i]!, i);
      const res = (await pipe.exec()) ?? [];
      members.forEach((i, k) => (replies[i] = res[k] ?? [new Error('no reply'), null]));
    }),
  );
  return replies;
}

/**
 * The servers holding the keyspace: the connection itself for a single Redis, every master of a
 * Cluster (connected first). Keyspace-wide commands (SCAN, DBSIZE, INFO keyspace) go to each.
 */
export async function masterNodes(redis: RedisClient): Promise<Redis[]> {
  if (!isCluster(redis)) return [redis];
  if (redis.status === 'wait') await redis.connect();
  return redis.nodes('master');
}

/**
 * Every key matching `pattern` (SCAN, on every master of a Cluster), in batches of at most
 * about `count` keys, each batch with the node that holds it.
 */
export async function* scanKeys(redis: RedisClient, pattern: string, count = 1_000): AsyncGenerator<{ node: Redis; keys: string[] }> {
  for (const node of await masterNodes(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (found.length > 0) yield { node, keys: found };
    } while (cursor !== '0');
  }
}

/**
 * UNLINKs every key matching `pattern` and returns how many there were. On a Cluster each key is
 * unlinked on its own (pipelined on the node that holds it): a multi-key UNLINK must stay in one
 * slot.
 */
export async function unlinkMatching(redis: RedisClient, pattern: string): Promise<number> {
  let n = 0;
  for await (const { node, keys } of scanKeys(redis, pattern)) {
    n += keys.length;
    if (!isCluster(redis)) {
      await node.unlink(...keys);
      continue;
    }
    const pipe = node.pipeline();
    for (const k of keys) pipe.unlink(k);
    for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
  }
  return n;
}
