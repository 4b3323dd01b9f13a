/** Refill rate and capacity of one kind of bucket. */
export interface BucketLimit {
  /** Tokens added per second; 0 = unlimited (every take succeeds). */
  ratePerSec: number;
  /** Capacity: the largest burst after a quiet period. At least 1. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key (one per credential and role): each holds up to `burst` tokens, refilled at
 * `ratePerSec`; a request takes one. Keys come from configuration (the credentials), so the map is
 * bounded by it, not by traffic.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Takes a token from `key`'s bucket. Returns 0 when taken, otherwise the milliseconds until one
   * token will be there (nothing is taken then).
   */
  take(key: string, limit: BucketLimit): number {
    if (!(limit.ratePerSec > 0)) return 0;
    const burst = Math.max(1, limit.burst);
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * limit.ratePerSec);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / limit.ratePerSec) * 1000;
  }
}
