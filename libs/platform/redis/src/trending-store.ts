import type { RedisKeys } from '@seqrec/contracts';
import type { TrendingEvent, TrendingStore } from '@seqrec/window';
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
 * {@link TrendingStore} on Redis: sorted sets of exponentially decayed item counts (overall, and one
 * per top-level category) and a state hash (each set's scale epoch, last offset counted per
 * partition), all in the `{trend}` slot, updated by `bumpTrending-n.lua` once per partition per
 * batch (one script call, one ZINCRBY per event and set).
 */
export class RedisTrendingStore implements TrendingStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: RedisTrendingStoreOptions,
  ) {
    if (!(options.halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be positive, got ${options.halfLifeMs}`);
  }

  async record(partition: number, events: TrendingEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const sets: string[] = [];
    const setOf = new Map<string, number>();
    const args: Array<string | number> = new Array(events.length * 4);
    events.forEach((e, i) => {
      let j = 0;
      if (e.category) {
        j = setOf.get(e.category) ?? 0;
        if (j === 0) {
          sets.push(this.keys.trendingItems(categoryScope(e.category)));
          setOf.set(e.category, (j = sets.length + 2));
        }
      }
      args[4 * i] = e.offset;
      args[4 * i + 1] = Math.floor(e.ts / 1000);
      args[4 * i + 2] = e.itemId;
      args[4 * i + 3] = j;
    });
    return this.redis.bumpTrending(2 + sets.length, this.keys.trendingState(), this.keys.trendingItems(), ...sets, partition, this.options.halfLifeMs / 1000, this.options.keep ?? TRENDING_KEEP, ...args);
  }

  async top(k: number, now: number = Date.now(), category?: string): Promise<Array<{ itemId: string; score: number }>> {
    const key = category === undefined ? this.keys.trendingItems() : this.keys.trendingItems(categoryScope(category));
    const [[e1, top], [e2, epoch]] = ((await this.redis
      .multi()
      .zrevrange(key, 0, k - 1, 'WITHSCORES')
      .hget(this.keys.trendingState(), category === undefined ? 'epoch' : `epoch:${key}`)
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

/** The trending scope of a top-level category. */
const categoryScope = (category: string) => `cat:${category}`;
