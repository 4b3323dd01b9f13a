import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** `auto` leaves the int8 scan only when it is predicted to fill the event loop beyond this share. */
export const AUTO_BUSY = 0.95;
/** … and returns to it once it is predicted to stay under this share (no flapping at the edge). */
export const AUTO_RETURN = 0.85;
/** Windows a probe of the matMul path lasts (batches of several sizes, for the cost fit). */
const PROBE_WINDOWS = 3;
/** Wait before probing matMul again after a probe found it costlier; doubles up to the maximum. */
const PROBE_BACKOFF_MS = 5_000;
const PROBE_BACKOFF_MAX_MS = 120_000;
/** Weight of the newest window in int8's cost per query. */
const EWMA = 0.3;
/** Per-batch decay of the matMul cost fit: it remembers the last ~50 batches. */
const FIT_DECAY = 0.98;

/**
 * Chooses the path of the scorer's `SCORER_EXACT_TOPK=auto` for each 100 ms window: the int8 scan
 * (ExactTopK, one query at a time) or the micro-batched TF matMul + topk.
 *
 * Both run on the event loop: tfjs-node executes a kernel on the calling thread (fanning out to
 * TF's pool), so a matMul batch holds the loop for its wall time. int8 costs the loop the same per
 * query at any rate (c, EWMA of measured scans). A matMul batch of B queries costs a + b·B (a fixed
 * part, b per query: a least-squares fit over recent batches). Under load the batcher runs back to
 * back and batches grow until the fixed part is amortised, so the loop share matMul needs at rate r
 * tends to r·b. With ρ the share of the loop everything else took (the measured utilisation minus
 * exact top-k's own time), the router predicts ρ + r·c for int8 and ρ + r·b for matMul, and
 * - stays on int8 while ρ + r·c < AUTO_BUSY: int8 answers each query at once, with no batch to
 *   wait for, so it gives lower latency as long as it keeps up;
 * - takes matMul when int8 would not keep up and matMul's prediction is lower; if it has no fit
 *   yet, or its fit is old, it probes matMul for a few windows to fit it;
 * - returns to int8 when ρ + r·c < AUTO_RETURN, or when matMul is not predicted cheaper.
 * A probe that finds matMul costlier backs off (5 s, doubling to 2 min) before the next.
 *
 * The first version compared the measured utilisation with 80%. Under matMul the batcher keeps the
 * loop busy back to back whatever the rate, so a scorer that once switched never came back: at
 * 500/s p99 1.36 s where int8 alone gave 2.8 ms (bench:score, session 7).
 */
export class ExactTopKRouter {
  /** The path for queries of the current window. */
  path: 'int8' | 'matmul' = 'int8';
  /** int8's loop ms per query (EWMA); null until measured. */
  int8Cost: number | null = null;
  /** The last window's predicted loop share under each path (null: not predictable yet). */
  predicted: { int8: number | null; matmul: number | null } = { int8: null, matmul: null };
  /** Utilisation of the last closed window, 0–1. */
  utilization = 0;
  /** Windows left of the current matMul probe (0: not probing). */
  private probing = 0;
  private probeBackoffMs = PROBE_BACKOFF_MS;
  private nextProbeAt = -Infinity;
  private fitAt = -Infinity;
  // Decayed least-squares sums over matMul batches: count, ΣB, ΣB², Σt, ΣB·t.
  private n = 0;
  private sb = 0;
  private sbb = 0;
  private st = 0;
  private sbt = 0;
  private int8Ms = 0;
  private int8Queries = 0;
  private matmulMs = 0;
  private matmulQueries = 0;
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly timer: NodeJS.Timeout | null;

  /** `windowMs` 0: no timer (tests close windows themselves with {@link closeWindow}). */
  constructor(windowMs = 100) {
    this.timer = windowMs > 0 ? setInterval(() => this.sample(), windowMs) : null;
    this.timer?.unref();
  }

  /** One int8 query took `ms` of loop time. */
  recordInt8(ms: number): void {
    this.int8Ms += ms;
    this.int8Queries++;
  }

  /** One matMul batch of `queries` held the loop for `ms`. */
  recordMatmul(ms: number, queries: number): void {
    this.matmulMs += ms;
    this.matmulQueries += queries;
    this.n = this.n * FIT_DECAY + 1;
    this.sb = this.sb * FIT_DECAY + queries;
    this.sbb = this.sbb * FIT_DECAY + queries * queries;
    this.st = this.st * FIT_DECAY + ms;
    this.sbt = this.sbt * FIT_DECAY + queries * ms;
  }

  /**
   * The matMul fit: ms per batch (a) and per query (b); null before any batch. With batches of
   * too similar sizes to separate the two, every ms is charged per query (a = 0): an overestimate
   * of b, which errs towards int8.
   */
  matmulCost(): { perBatch: number; perQuery: number } | null {
    if (this.n < 1e-9 || this.sb < 1e-9) return null;
    const varB = this.n * this.sbb - this.sb * this.sb;
    if (varB > 1e-6 * this.n * this.sbb) {
      const perQuery = (this.n * this.sbt - this.sb * this.st) / varB;
      const perBatch = (this.st - perQuery * this.sb) / this.n;
      if (perQuery > 0 && perBatch >= 0) return { perBatch, perQuery };
    }
    return { perBatch: 0, perQuery: this.st / this.sb };
  }

  /** Closes the current window with the event loop's own reading (the timer calls this). */
  sample(): void {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, this.last);
    this.last = now;
    this.closeWindow(delta.utilization, delta.idle + delta.active, performance.now());
  }

  /** Closes a window of `windowMs` with `utilization` (0–1) and picks the next window's path. */
  closeWindow(utilization: number, windowMs: number, nowMs: number): void {
    this.utilization = utilization;
    const queries = this.int8Queries + this.matmulQueries;
    if (this.int8Queries > 0) this.int8Cost = ewma(this.int8Cost, this.int8Ms / this.int8Queries);
    if (this.matmulQueries > 0) this.fitAt = nowMs;
    const w = Math.max(windowMs, 1);
    const rate = queries / w; // queries per ms
    const rest = Math.max(0, utilization - (this.int8Ms + this.matmulMs) / w);
    const fit = this.matmulCost();
    const int8 = this.int8Cost === null ? (this.path === 'int8' ? utilization : null) : rest + rate * this.int8Cost;
    const matmul = fit === null ? null : rest + rate * fit.perQuery;
    this.predicted = { int8, matmul };
    if (this.path === 'int8') {
      if (int8 !== null && int8 >= AUTO_BUSY && queries > 0) {
        const fitStale = nowMs - this.fitAt > PROBE_BACKOFF_MS;
        if ((matmul === null || fitStale) && nowMs >= this.nextProbeAt) {
          this.path = 'matmul';
          this.probing = PROBE_WINDOWS;
        } else if (matmul !== null && !fitStale && matmul < int8) {
          this.path = 'matmul';
        }
      }
    } else if (this.probing > 1) {
      this.probing--;
    } else {
      const probed = this.probing === 1;
      this.probing = 0;
      const worse = matmul === null || int8 === null || matmul >= int8;
      if (worse || int8 < AUTO_RETURN) {
        this.path = 'int8';
        if (probed && worse) {
          this.nextProbeAt = nowMs + this.probeBackoffMs;
          this.probeBackoffMs = Math.min(this.probeBackoffMs * 2, PROBE_BACKOFF_MAX_MS);
        }
      } else if (probed) {
        this.probeBackoffMs = PROBE_BACKOFF_MS;
      }
    }
    this.int8Ms = this.matmulMs = 0;
    this.int8Queries = this.matmulQueries = 0;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

function ewma(prev: number | null, x: number): number {
  return prev === null ? x : prev + EWMA * (x - prev);
}
