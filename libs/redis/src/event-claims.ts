import type { Redis } from 'ioredis';
import type { RedisKeys } from '@seqrec/contracts';
import type { EventClaims } from '@seqrec/sequence';

/**
 * {@link EventClaims} on Redis: `SET key source NX PX ttl GET` claims an id and, when it was taken,
 * returns the holder, so our own redelivery (same source) is told apart from a producer's retry.
 */
export class RedisEventClaims implements EventClaims {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async claim(claims: Array<{ eventId: string; source: string }>, ttlMs: number): Promise<boolean[]> {
    if (claims.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const c of claims) pipe.call('SET', this.keys.eventSeen(c.eventId), c.source, 'PX', String(ttlMs), 'NX', 'GET');
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, holder], k) => {
      if (err) throw err;
      return holder === null || holder === claims[k]!.source;
    });
  }

  async release(claims: Array<{ eventId: string; source: string }>): Promise<void> {
    if (claims.length === 0) return;
    const pipe = this.redis.pipeline();
    for (const c of claims) pipe.releaseClaim(this.keys.eventSeen(c.eventId), c.source);
    await pipe.exec();
  }
}
