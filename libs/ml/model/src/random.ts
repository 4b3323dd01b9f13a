/**
 * Seeded randomness for everything the trainer decides in JavaScript (shuffling, negative
 * sampling, dropout seeds), so that a run is reproducible from one integer seed.
 */

/** mulberry32: a small, fast 32-bit generator; good enough for shuffling and sampling. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A fresh 31-bit seed, e.g. for a TF.js op that takes one. */
  seed(): number {
    return Math.floor(this.next() * 0x7fffffff);
  }

  /** Fisher-Yates, in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }
}

let dropoutRng = new Rng(1234);

/**
 * Seeds the generator that hands a fresh seed to every dropout op. TF.js dropout with a fixed
 * seed would draw the same mask at every step, and without one it is not reproducible; the
 * trainer calls this once per run.
 */
export function seedDropout(seed: number): void {
  dropoutRng = new Rng(seed);
}

/** The next dropout seed (see {@link seedDropout}). */
export function nextDropoutSeed(): number {
  return dropoutRng.seed();
}
