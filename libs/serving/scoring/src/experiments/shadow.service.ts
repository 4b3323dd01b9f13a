import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ImpressionV1 } from '@seqrec/contracts';
import { DEFAULT_CTR_K, bucketOf, type ExperimentConfig } from '@seqrec/experiments';
import { SCORING_OPTIONS } from '../scoring.constants';
import { ScoringService, type ScoringOptions } from '../scoring.service';
import { EXPERIMENT_METRICS } from './experiments.constants';
import type { ExperimentMetrics } from './experiment.metrics';
import { ExperimentsService } from './experiments.service';

/** Impressions waiting for the shadow, above which new ones are skipped (counted). */
export const MAX_SHADOW_QUEUE = 2_000;
/** Longest an impression waits for its experiment's shadow to be in force in this process, ms. */
const SHADOW_LOAD_WAIT_MS = 30_000;

/**
 * The shadow model (docs/experiments.md): scores what the served model answered, off the request
 * path. The feedback join hands it the impressions it consumes; those in the shadow's sample are
 * scored one at a time, each from the subject's window as it was when the answer was served, within
 * SCORER_SHADOW_MAX_LOAD of each second of the event loop; while the queue is full, new ones are
 * skipped. It runs where the join runs (SCORER_FEEDBACK_JOIN): in k8s, not on a serving replica.
 */
@Injectable()
export class ShadowScoring implements OnApplicationShutdown {
  private readonly log = new Logger('Shadow');
  private readonly queue: ImpressionV1[] = [];
  private head = 0;
  private draining = false;
  private closed = false;
  private second = { start: 0, usedMs: 0 };
  /** Since when the queue's first impression has waited for its experiment to be in force here. */
  private waitingSince: number | null = null;

  constructor(
    private readonly experiments: ExperimentsService,
    private readonly scoring: ScoringService,
    @Inject(SCORING_OPTIONS) private readonly options: ScoringOptions,
    @Inject(EXPERIMENT_METRICS) private readonly metrics: ExperimentMetrics,
  ) {}

  onApplicationShutdown(): void {
    this.closed = true;
  }

  /** Impressions waiting. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /**
   * Queues the impressions of the shadow's sample (never waits for their scoring); those beyond a
   * full queue are skipped. An impression whose experiment is not in force here yet (this process is
   * starting and loading the shadow, or the experiment changed a moment ago) waits in the queue up
   * to SHADOW_LOAD_WAIT_MS for it.
   */
  offer(impressions: readonly ImpressionV1[], config: ExperimentConfig): void {
    if (this.closed || !config.shadow) return;
    for (const imp of impressions) {
      if (bucketOf('shadow', imp.requestId) >= config.shadow.sample) continue;
      if (this.pending >= MAX_SHADOW_QUEUE) {
        this.metrics.shadow.inc({ route: imp.route, outcome: 'skipped' });
        continue;
      }
      this.queue.push(imp);
    }
    if (!this.draining && this.pending > 0) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (!this.closed && this.pending > 0) {
        const now = performance.now();
        if (now - this.second.start >= 1_000) this.second = { start: now, usedMs: 0 };
        if (this.second.usedMs >= this.options.shadowMaxLoad * 1_000) {
          await sleep(this.second.start + 1_000 - now);
          continue;
        }
        const imp = this.queue[this.head]!;
        if (this.experiments.active?.config.id === imp.experiment) this.waitingSince = null;
        else if (now - (this.waitingSince ??= now) < SHADOW_LOAD_WAIT_MS) {
          // once waited out, the impressions after it that are not in force either are skipped at once
          await sleep(100);
          continue;
        }
        this.head++;
        if (this.head > 1_024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        // served requests (in a process that also serves) and the join go first
        await new Promise((r) => setImmediate(r));
        const model = this.experiments.shadowFor(imp);
        if (!model) {
          // its experiment is not the one in force here (it stopped, or did not load in time)
          this.metrics.shadow.inc({ route: imp.route, outcome: 'skipped' });
          continue;
        }
        const t0 = performance.now();
        try {
          const items = await this.scoring.shadowAnswer(model, imp);
          const ms = performance.now() - t0;
          this.metrics.shadowDuration.observe(ms / 1000);
          // the served answer's top K against the shadow's (a rank answer: the whole list, best first)
          const k = Math.min(imp.items.length, this.experiments.active?.config.k ?? DEFAULT_CTR_K);
          const got = new Set(items.slice(0, k));
          this.metrics.shadowOverlap.observe({ route: imp.route }, k > 0 ? imp.items.slice(0, k).filter((i) => got.has(i)).length / k : 1);
          this.metrics.shadow.inc({ route: imp.route, outcome: 'scored' });
        } catch (err) {
          this.metrics.shadow.inc({ route: imp.route, outcome: 'failed' });
          this.log.warn(`shadow ${model.name}@${model.version}: ${(err as Error).message}`);
        } finally {
          this.second.usedMs += performance.now() - t0;
          model.release();
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(1, ms)).unref());
