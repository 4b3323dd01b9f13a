import { pipelinePerKey, type RedisClient } from './cluster';

/** One key's reply: the error, or the value (null when the key is missing). */
export type GetReply = [Error | null, Buffer | null];

/**
 * GET of every key as Buffers, one reply per key in order. One key (the scorer's hot path): a plain
 * GET, no Pipeline object. Several: one explicit pipeline (one write, one round trip; on a Cluster
 * one per node, see {@link pipelinePerKey}). A sampling heap profile of the scorer's promoted
 * objects found ioredis Pipelines (~8 KB of the ~10 KB promoted per request): a pipeline per
 * request, or auto-pipelining's one per tick, outlived the young generation and made every
 * scavenge slower. Keys are read one by one, never by MGET, so each stays in its own cluster slot.
 */
export async function getBuffers(redis: RedisClient, keys: readonly string[]): Promise<GetReply[]> {
  if (keys.length === 0) return [];
  if (keys.length === 1) {
    try {
      return [[null, await redis.getBuffer(keys[0]!)]];
    } catch (err) {
      return [[err as Error, null]];
    }
  }
  return (await pipelinePerKey(redis, keys, (pipe, key) => pipe.getBuffer(key))).map(([err, v]) => [err, (v as Buffer | null) ?? null]);
}
