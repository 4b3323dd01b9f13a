import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Paces work to `rate` units per second. Tokens accrue continuously up to `capacity` (the allowed
 * burst); taking more than are available runs a debt that the caller waits off, so batches larger
 * than the capacity still work and the long-run rate stays at `rate`. Starts empty: the first batch
 * waits its share, which keeps the achieved rate (total / elapsed) close to `rate` from the start.
 */
export class TokenBucket {
  private tokens = 0;
  private last: number;

  constructor(
    readonly rate: number,
    readonly capacity: number,
    now: number = performance.now(),
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`);
    this.last = now;
  }

  /** Takes `n` tokens at time `now` (ms) and returns how long to wait before using them, in ms. */
  reserve(n: number, now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.rate;
  }

  /** Takes `n` tokens, waiting as long as needed. */
  async take(n: number): Promise<void> {
    const wait = this.reserve(n, performance.now());
    if (wait >= 1) await sleep(Math.round(wait));
  }
}
