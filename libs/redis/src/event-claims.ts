import type { RedisKeys } from '@seqrec/contracts';
import type { EventClaims } from '@seqrec/sequence';
import { pipelinePerKey, type RedisClient } from './cluster';

/**
 * {@link EventClaims} on Redis: `SET key source NX PX ttl GET` claims an id and, when it was taken,
 * returns the holder, so our own redelivery (same source) is told apart from a producer's retry.
 * Every claim is its own key (own cluster slot): a batch is pipelined per node on a Cluster.
 */
export class RedisEventClaims implements EventClaims {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async claim(claims: Array<{ eventId: string; source: string }>, ttlMs: number): Promise<boolean[]> {
    if (claims.length === 0) return [];
    const keys = claims.map((c) => this.keys.eventSeen(c.eventId));
    const res = await pipelinePerKey(this.redis, keys, (pipe, key, i) => pipe.call('SET', key, claims[i]!.source, 'PX', String(ttlMs), 'NX', 'GET'));
    return res.map(([err, holder], k) => {
      if (err) throw err;
      return holder === null || holder === claims[k]!.source;
    });
  }

  async release(claims: Array<{ eventId: string; source: string }>): Promise<void> {
    if (claims.length === 0) return;
    const keys = claims.map((c) => this.keys.eventSeen(c.eventId));
    await pipelinePerKey(this.redis, keys, (pipe, key, i) => pipe.releaseClaim(key, claims[i]!.source));
  }
}
