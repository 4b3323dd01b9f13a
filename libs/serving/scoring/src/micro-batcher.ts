/**
 * Micro-batching of scoring work: requests queue up while a forward pass runs and the next pass
 * takes up to `maxBatch` of them at once (one `topK` call and one `scoreItems` call per model
 * version present in the batch). An idle batcher waits at most `maxWaitMs` for companions of the
 * first request. The queue is bounded twice, so latency cannot grow without bound under overload:
 * - by length: beyond `maxQueue` waiting requests, `submit` throws {@link QueueFullError} at once;
 * - by time: while the oldest waiting request has waited longer than `maxQueueWaitMs`, the scorer
 *   is not keeping up, so `submit` sheds new requests at once (reason `queue_wait`), and a request
 *   that has waited longer than that when its pass starts is failed instead of scored (reason
 *   `queue_timeout`: its caller has likely given up; scoring it would only delay the others).
 * The caller answers every {@link QueueFullError} with 429 and Retry-After.
 */
import type { ServingModel } from './serving-model';
import { SeqrecError } from '@seqrec/contracts';

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Longest a request may wait for its pass (0: no limit). */
  maxQueueWaitMs?: number;
}

export interface TopKJob {
  kind: 'topk';
  model: ServingModel;
  ids: Int32Array;
  types: Uint8Array;
  k: number;
  exclude: Int32Array;
}

export interface RankJob {
  kind: 'rank';
  model: ServingModel;
  ids: Int32Array;
  types: Uint8Array;
  /** Model indices (0 for items the model does not know; their score is ignored). */
  candidates: Int32Array;
}

/** Top-k from a stored user vector that is current for the live window (no forward pass). */
export interface VectorTopKJob {
  kind: 'topk-vector';
  model: ServingModel;
  vector: Float32Array;
  k: number;
  exclude: Int32Array;
}

export type ScoreJob = TopKJob | RankJob | VectorTopKJob;
export type JobResult<J extends ScoreJob> = J extends RankJob ? Float32Array : { items: Int32Array; scores: Float32Array };

export type ShedReason = 'queue_full' | 'queue_wait' | 'queue_timeout';

/** A request shed by the queue (answered 429 + Retry-After); `reason` says which bound. */
export class QueueFullError extends SeqrecError {
  constructor(
    readonly depth: number,
    readonly reason: ShedReason = 'queue_full',
    waitedMs = 0,
  ) {
    super(
      reason === 'queue_full'
        ? `scoring queue full (${depth} waiting)`
        : reason === 'queue_wait'
          ? `scoring queue is behind: the oldest of ${depth} waiting requests has waited ${Math.round(waitedMs)} ms`
          : `request waited ${Math.round(waitedMs)} ms for scoring, longer than the limit`,
      { retriable: true, context: { depth, reason, waitedMs } },
    );
    this.name = 'QueueFullError';
  }
}

export interface BatchObserver {
  onBatch?(kind: ScoreJob['kind'], size: number, seconds: number): void;
  onQueueDepth?(depth: number): void;
}

interface Pending {
  job: ScoreJob;
  /** performance.now() at submit. */
  at: number;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class MicroBatcher {
  private queue: Pending[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;

  constructor(
    private readonly options: BatcherOptions,
    private readonly observer: BatchObserver = {},
  ) {
    if (!(options.maxBatch >= 1)) throw new RangeError(`maxBatch must be ≥ 1, got ${options.maxBatch}`);
  }

  get depth(): number {
    return this.queue.length;
  }

  submit<J extends ScoreJob>(job: J): Promise<JobResult<J>> {
    if (this.queue.length >= this.options.maxQueue) throw new QueueFullError(this.queue.length);
    const now = performance.now();
    const limit = this.options.maxQueueWaitMs ?? 0;
    if (limit > 0 && this.queue.length > 0 && now - this.queue[0]!.at > limit) {
      throw new QueueFullError(this.queue.length, 'queue_wait', now - this.queue[0]!.at);
    }
    return new Promise<JobResult<J>>((resolve, reject) => {
      this.queue.push({ job, at: now, resolve: resolve as (v: unknown) => void, reject });
      this.observer.onQueueDepth?.(this.queue.length);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.immediate) return;
    if (this.queue.length >= this.options.maxBatch || this.options.maxWaitMs <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.immediate = setImmediate(() => {
        this.immediate = null;
        void this.run();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.run();
      }, this.options.maxWaitMs);
    }
  }

  private async run(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const limit = this.options.maxQueueWaitMs ?? 0;
    if (limit > 0) {
      const now = performance.now();
      let expired = 0;
      while (expired < this.queue.length && now - this.queue[expired]!.at > limit) expired++;
      for (const p of this.queue.splice(0, expired)) p.reject(new QueueFullError(this.queue.length, 'queue_timeout', now - p.at));
    }
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.observer.onQueueDepth?.(this.queue.length);
    try {
      const groups = new Map<string, Pending[]>();
      for (const p of batch) {
        const key = `${p.job.kind}\u0000${p.job.model.version}`;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = []));
        g.push(p);
      }
      for (const group of groups.values()) await this.execute(group);
    } finally {
      this.running = false;
      // Whatever queued during the pass has waited already: score it without further delay.
      if (this.queue.length > 0) {
        this.immediate = setImmediate(() => {
          this.immediate = null;
          void this.run();
        });
      }
    }
  }

  private async execute(group: Pending[]): Promise<void> {
    const first = group[0]!.job;
    const encoder = first.model.encoder;
    const useTypes = encoder.config.numTypes > 0;
    const started = process.hrtime.bigint();
    try {
      if (first.kind === 'topk') {
        const jobs = group.map((p) => p.job as TopKJob);
        const k = Math.max(...jobs.map((j) => j.k));
        const res = await first.model.topKHistories(
          jobs.map((j) => j.ids),
          useTypes ? jobs.map((j) => j.types) : undefined,
          k,
          jobs.map((j) => j.exclude),
        );
        group.forEach((p, i) => {
          const r = res[i]!;
          const kj = jobs[i]!.k;
          p.resolve(r.items.length > kj ? { items: r.items.slice(0, kj), scores: r.scores.slice(0, kj) } : r);
        });
      } else if (first.kind === 'topk-vector') {
        const jobs = group.map((p) => p.job as VectorTopKJob);
        const k = Math.max(...jobs.map((j) => j.k));
        const res = await first.model.topKVectors(jobs.map((j) => j.vector), k, jobs.map((j) => j.exclude));
        group.forEach((p, i) => {
          const r = res[i]!;
          const kj = jobs[i]!.k;
          p.resolve(r.items.length > kj ? { items: r.items.slice(0, kj), scores: r.scores.slice(0, kj) } : r);
        });
      } else {
        const jobs = group.map((p) => p.job as RankJob);
        const res = await encoder.scoreItems(
          jobs.map((j) => j.ids),
          jobs.map((j) => j.candidates),
          useTypes ? jobs.map((j) => j.types) : undefined,
        );
        group.forEach((p, i) => p.resolve(res[i]!));
      }
    } catch (err) {
      for (const p of group) p.reject(err);
    } finally {
      this.observer.onBatch?.(first.kind, group.length, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Fails whatever is still queued (shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = null;
    for (const p of this.queue.splice(0)) p.reject(new Error('scorer shutting down'));
  }
}
