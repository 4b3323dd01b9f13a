/**
 * Overload detection from event-loop delay. The micro-batcher's queue bounds only the work that
 * reached a handler; when the process itself is saturated (CPU-bound scoring, GC, a burst beyond
 * what one thread can parse) requests wait before any handler runs — in socket buffers and the
 * event loop's queue — and latency grows without bound where no queue limit sees it. The event
 * loop's own delay measures exactly that wait. Every `windowMs` the largest lag of the last window is
 * compared with `maxDelayMs`; while it is above, the scorer answers new API requests at once with
 * 503 + Retry-After (a cheap answer, so the backlog drains and the requests it does accept stay
 * fast). The same approach as @fastify/under-pressure, without the dependency. The lag is
 * measured with a timer chain (every `resolutionMs`, how late the timer ran): Node's
 * `monitorEventLoopDelay` histogram, tried first, did not record a 200 ms stall at all on Node 20.
 */
export class OverloadDetector {
  private readonly windowTimer: NodeJS.Timeout;
  private tick: NodeJS.Timeout | null = null;
  private windowMax = 0;
  private overloadedFlag = false;
  /** Largest event-loop lag in the last window, ms. */
  lastDelayMs = 0;

  constructor(
    readonly maxDelayMs: number,
    windowMs = 100,
    private readonly resolutionMs = 10,
  ) {
    if (!(maxDelayMs > 0)) throw new RangeError(`maxDelayMs must be > 0, got ${maxDelayMs}`);
    this.schedule();
    this.windowTimer = setInterval(() => this.sample(), windowMs);
    this.windowTimer.unref();
  }

  private schedule(): void {
    const due = performance.now() + this.resolutionMs;
    this.tick = setTimeout(() => {
      // How late this timer ran: the time an event (a request) waited for the loop.
      this.windowMax = Math.max(this.windowMax, performance.now() - due);
      this.schedule();
    }, this.resolutionMs);
    this.tick.unref();
  }

  /** Closes the current window (called by the timer; public for tests). */
  sample(): void {
    this.lastDelayMs = this.windowMax;
    this.windowMax = 0;
    this.overloadedFlag = this.lastDelayMs > this.maxDelayMs;
  }

  get overloaded(): boolean {
    return this.overloadedFlag;
  }

  close(): void {
    clearInterval(this.windowTimer);
    if (this.tick) clearTimeout(this.tick);
    this.tick = null;
  }
}
