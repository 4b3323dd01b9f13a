import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Loop utilisation above which `auto` looks for a cheaper way to run exact top-k. */
export const AUTO_BUSY = 0.8;
/** A matMul cost measured longer ago than this is measured again before it is trusted. */
const REPROBE_MS = 5_000;
/** Weight of the newest window in the per-query costs. */
const EWMA = 0.3;
/** Back to int8 from matMul only below this share of AUTO_BUSY (no flapping at the edge). */
const RETURN_MARGIN = 0.9;

/**
 * Chooses the path of the scorer's `SCORER_EXACT_TOPK=auto` for each 100 ms window: the int8 scan
 * (ExactTopK, one query at a time) or the micro-batched TF matMul + topk.
 *
 * Both run on the event loop: tfjs-node executes a kernel on the calling thread (fanning out to
 * TF's pool), so a matMul batch holds the loop for its wall time. What differs is the loop time per
 * query: int8 costs about the same at any rate; a matMul batch costs less per query the larger it
 * gets, i.e. the busier the scorer. The router measures both costs (EWMA of loop ms per query) and
 * predicts the window's utilisation under each path: the measured utilisation, minus the loop time
 * exact top-k took, plus the window's queries at the path's cost. It stays on int8 while int8's
 * prediction is below AUTO_BUSY, and takes matMul only when matMul's prediction is lower.
 *
 * The first version switched on the measured utilisation alone. Under matMul that utilisation
 * includes matMul's own cost, so at a rate int8 handles easily (500/s) a scorer that once switched
 * stayed on the costlier path: p99 1.36 s where int8 alone gave 2.8 ms (bench:score, session 7).
 */
export class ExactTopKRouter {
  /** The path for queries of the current window. */
  path: 'int8' | 'matmul' = 'int8';
  /** Loop ms per query of each path (EWMA over the windows that used it); null until measured. */
  int8Cost: number | null = null;
  matmulCost: number | null = null;
  /** The last window's predicted loop utilisation under each path (null: not predictable yet). */
  predicted: { int8: number | null; matmul: number | null } = { int8: null, matmul: null };
  /** Utilisation of the last closed window, 0–1. */
  utilization = 0;
  private matmulMeasuredAt = -Infinity;
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
    if (this.matmulQueries > 0) {
      this.matmulCost = ewma(this.matmulCost, this.matmulMs / this.matmulQueries);
      this.matmulMeasuredAt = nowMs;
    }
    const w = Math.max(windowMs, 1);
    const rest = Math.max(0, utilization - (this.int8Ms + this.matmulMs) / w);
    const int8 = this.int8Cost === null ? (this.path === 'int8' ? utilization : null) : rest + (queries * this.int8Cost) / w;
    const matmul = this.matmulCost === null ? null : rest + (queries * this.matmulCost) / w;
    this.predicted = { int8, matmul };
    if (this.path === 'int8') {
      const int8Busy = int8 !== null && int8 >= AUTO_BUSY;
      const matmulStale = nowMs - this.matmulMeasuredAt > REPROBE_MS;
      // Busy on int8: try matMul if it is cheaper, or if its cost is unknown or old (one window's probe).
      if (int8Busy && queries > 0 && (matmul === null || matmulStale || matmul < int8)) this.path = 'matmul';
    } else if (int8 === null || int8 < AUTO_BUSY * RETURN_MARGIN || (matmul !== null && matmul >= int8)) {
      this.path = 'int8';
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
