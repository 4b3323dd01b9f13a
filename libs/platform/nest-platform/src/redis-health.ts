import { isCluster, type RedisClient } from '@seqrec/redis';

export interface RedisHealthOptions {
  /** A PING goes out this often (the next one only once the previous has ended); 0: no PING, health is the connection's status. */
  intervalMs: number;
  /** A PING unanswered for this long makes the connection unhealthy at once. */
  timeoutMs: number;
  /** Called when health changes (for a log line). */
  onChange?: (healthy: boolean, why: string) => void;
  now?: () => number;
}

/**
 * Whether Redis answers, for readiness. ioredis reports `ready` as long as the TCP connection
 * stands, so a Redis that hangs (stopped, swapping, stuck in a slow script) looks healthy while
 * every command waits. This PINGs every `intervalMs` (every master of a Cluster) and is
 * {@link healthy} only when the connection is ready, the last PING was answered, and none has been
 * waiting longer than `timeoutMs`.
 */
export class RedisHealth {
  private timer: NodeJS.Timeout | null = null;
  private pingStartedAt: number | null = null;
  private lastOk = false;
  private reported = true;
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisHealthOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  start(): void {
    if (this.timer || this.options.intervalMs <= 0) return;
    this.timer = setInterval(() => this.ping(), this.options.intervalMs);
    this.timer.unref();
    this.redis.on('ready', this.onReady);
    if (this.redis.status === 'ready') this.ping();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.redis.off('ready', this.onReady);
  }

  /** Ready connection, last PING answered, none outstanding for longer than `timeoutMs`. */
  get healthy(): boolean {
    if (this.options.intervalMs <= 0) return this.redis.status === 'ready';
    const stuck = this.pingStartedAt !== null && this.now() - this.pingStartedAt > this.options.timeoutMs;
    const healthy = this.redis.status === 'ready' && this.lastOk && !stuck;
    if (stuck) this.report(false, `PING unanswered for ${Math.round(this.now() - this.pingStartedAt!)} ms (REDIS_PING_TIMEOUT_MS ${this.options.timeoutMs})`);
    return healthy;
  }

  private readonly onReady = () => this.ping();

  private ping(): void {
    if (this.pingStartedAt !== null || this.redis.status !== 'ready') return;
    const started = this.now();
    this.pingStartedAt = started;
    const nodes = isCluster(this.redis) ? this.redis.nodes('master') : [this.redis];
    Promise.all(nodes.map((n) => n.ping())).then(
      () => {
        const took = this.now() - started;
        // answered, but later than the deadline: unhealthy until a PING is answered in time
        this.lastOk = took <= this.options.timeoutMs;
        this.report(this.lastOk, `PING answered in ${Math.round(took)} ms`);
      },
      (err: Error) => {
        this.lastOk = false;
        this.report(false, `PING failed: ${err.message}`);
      },
    ).finally(() => {
      this.pingStartedAt = null;
    });
  }

  private report(healthy: boolean, why: string): void {
    if (healthy === this.reported) return;
    this.reported = healthy;
    this.options.onChange?.(healthy, why);
  }
}
