import { performance } from 'node:perf_hooks';

/**
 * How busy the event loop was over the last window: the share of wall time it spent running code
 * (Node's event-loop utilisation), sampled every `windowMs`. The scorer's `auto` exact top-k runs
 * the int8 scan on the loop while this is below a threshold and hands top-k to TF's threads (the
 * micro-batched matMul) above it, so one saturated thread does not cap a scorer with more cores.
 */
export class LoopLoad {
  private readonly timer: NodeJS.Timeout;
  private last = performance.eventLoopUtilization();
  /** Utilisation of the last closed window, 0–1. */
  utilization = 0;

  constructor(windowMs = 100) {
    this.timer = setInterval(() => this.sample(), windowMs);
    this.timer.unref();
  }

  /** Closes the current window (called by the timer; public for tests). */
  sample(): void {
    const now = performance.eventLoopUtilization();
    this.utilization = performance.eventLoopUtilization(now, this.last).utilization;
    this.last = now;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
