import type { RedisKeys } from '@seqrec/contracts';
import type { TrendingStore } from '@seqrec/window';
import type { RedisClient } from './cluster';

/** Members a renormalisation keeps by default: far more than any k asked for, few enough to rescale in milliseconds. */
export const TRENDING_KEEP = 10_000;

export interface RedisTrendingStoreOptions {
  /** Half-life of a count, ms (TRENDING_HALF_LIFE_MINUTES). */
  halfLifeMs: number;
  /** Members a renormalisation keeps (the best; default 10,000): it bounds the set and the renormalisation's cost. */
  keep?: number;
}

/**
 * {@link TrendingStore} on Redis: a sorted set of exponentially decayed item counts and a state hash
 * (scale epoch, last offset counted per partition), both in the `{trend}` slot, updated by
 * `bumpTrending-2.lua` once per partition per batch (one script call, one ZINCRBY per event).
 */
export class RedisTrendingStore implements TrendingStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: RedisTrendingStoreOptions,
  ) {
    if (!(options.halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be positive, got ${options.halfLifeMs}`);
  }

  async record(partition: number, events: Array<{ offset: number; ts: number; itemId: string }>): Promise<number> {
    if (events.length === 0) return 0;
    const args: Array<string | number> = new Array(events.length * 3);
    events.forEach((e, i) => {
      args[3 * i] = e.offset;
      args[3 * i + 1] = Math.floor(e.ts / 1000);
      args[3 * i + 2] = e.itemId;
    });
    return this.redis.bumpTrending(this.keys.trendingItems(), this.keys.trendingState(), partition, this.options.halfLifeMs / 1000, this.options.keep ?? TRENDING_KEEP, ...args);
  }

  async top(k: number, now: number = Date.now()): Promise<Array<{ itemId: string; score: number }>> {
    const [[e1, top], [e2, epoch]] = ((await this.redis
      .multi()
      .zrevrange(this.keys.trendingItems(), 0, k - 1, 'WITHSCORES')
      .hget(this.keys.trendingState(), 'epoch')
      .exec()) ?? []) as Array<[Error | null, unknown]>;
    if (e1) throw e1;
    if (e2) throw e2;
    const flat = top as string[];
    if (flat.length === 0 || epoch === null) return [];
    const scale = 2 ** -((now / 1000 - Number(epoch)) / (this.options.halfLifeMs / 1000));
    const out: Array<{ itemId: string; score: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ itemId: flat[i]!, score: Number(flat[i + 1]) * scale });
    return out;
  }
}
