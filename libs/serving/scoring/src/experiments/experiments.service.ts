import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Bus, OutboundMessage } from '@seqrec/bus';
import { TOPICS, type EventSubject, type ImpressionV1 } from '@seqrec/contracts';
import {
  HOLDOUT,
  assignVariant,
  attributionMs,
  bucketOf,
  modelKey,
  variantModel,
  DEFAULT_CTR_K,
  type ExperimentRecord,
  type ExperimentStore,
  type ModelChoice,
} from '@seqrec/experiments';
import type { ModelStore } from '@seqrec/model-store';
import { BUS } from '@seqrec/nest-platform';
import { ModelLoader } from '../model-loader.service';
import { NoModelError } from '../no-model';
import { MODEL_STORE, SCORING_OPTIONS } from '../scoring.constants';
import type { ScoringOptions } from '../scoring.service';
import { ModelSlot, type ServingModel } from '../serving-model';
import { EXPERIMENT_METRICS, EXPERIMENT_STORE } from './experiments.constants';
import type { ExperimentMetrics } from './experiment.metrics';

/** Where one subject's request goes: the model to answer with (acquired: release it) and, in an experiment, the variant. */
export interface Route {
  model: ServingModel;
  experiment?: { id: string; variant: string };
}

/** The subject's key in the experiment store and in impressions (`u:` user id, `s:` session id). */
export function subjectKey(s: EventSubject): string {
  return s.kind === 'user' ? `u:${s.id}` : `s:${s.id}`;
}

/** What a user is assigned by: the user id (sticky across sessions), or `s:` and the session id. */
function assignmentKey(s: EventSubject): string {
  return s.kind === 'user' ? s.id : `s:${s.id}`;
}

/** Impressions queued or handed to the bus and not yet acknowledged, above which new ones are dropped (counted). */
const MAX_IMPRESSIONS_IN_FLIGHT = 10_000;
/** Impressions are published together: at most this long after the first of a batch, ms, or this many. */
const IMPRESSION_FLUSH_MS = 20;
const IMPRESSION_BATCH = 500;

interface Live {
  record: ExperimentRecord;
  /** The loaded model of each variant with one (by variant name), and of the shadow. */
  variants: Map<string, ModelSlot>;
  shadow: ModelSlot | null;
  json: string;
}

/**
 * The active experiment on this scorer: follows the experiment store (every
 * SCORER_EXPERIMENT_POLL_MS, and at once after a change through this replica's API), loads the
 * models its variants and shadow name before it takes traffic, routes each subject to its variant
 * (sticky: a hash of the experiment id and user id) and publishes impressions. While an experiment's
 * models are loading, the one before it (or none) stays in force.
 */
@Injectable()
export class ExperimentsService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly log = new Logger('Experiments');
  private live: Live | null = null;
  /** Loaded models by choice key, shared between variants and experiments. */
  private readonly models = new Map<string, ModelSlot>();
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private inFlight = 0;
  private followedCheckedAt = Date.now();
  private queued: OutboundMessage[] = [];
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(EXPERIMENT_STORE) readonly store: ExperimentStore,
    @Inject(EXPERIMENT_METRICS) private readonly metrics: ExperimentMetrics,
    @Inject(SCORING_OPTIONS) private readonly options: ScoringOptions,
    @Inject(MODEL_STORE) private readonly modelStore: ModelStore,
    @Inject(BUS) private readonly bus: Bus,
    private readonly loader: ModelLoader,
    private readonly slot: ModelSlot,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sync().catch((err: Error) => this.log.error(`reading the active experiment: ${err.message}`));
    if (this.options.experimentPollMs > 0) {
      this.timer = setInterval(() => void this.sync().catch((err: Error) => this.log.warn(`experiment poll: ${err.message}`)), this.options.experimentPollMs);
      this.timer.unref();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    // the impressions still queued go out before the bus closes
    this.flushImpressions();
    for (const until = Date.now() + 5_000; this.inFlight > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    for (const slot of this.models.values()) slot.close();
    this.models.clear();
  }

  /** The experiment in force here (its models loaded), or null. */
  get active(): ExperimentRecord | null {
    return this.live?.record ?? null;
  }

  /** Reads the store's active experiment and puts it in force once its models are loaded (serialised). */
  sync(): Promise<void> {
    if (this.syncing) return this.syncing.then(() => this.sync());
    this.syncing = this.doSync().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    const record = await this.store.active();
    const json = record ? JSON.stringify(record.config) : '';
    if (json === (this.live?.json ?? '')) {
      if (record && this.live) this.live.record = record;
      // promotions arrive as announcements (ModelsConsumer); CURRENT is also read as often as the
      // served model's (SCORER_MODEL_POLL_SECONDS), for one this replica missed
      const pollMs = this.options.pollSeconds * 1_000;
      if (pollMs > 0 && Date.now() - this.followedCheckedAt >= pollMs) {
        this.followedCheckedAt = Date.now();
        await this.refreshFollowed();
      }
      return;
    }
    if (!record) {
      this.log.log(`experiment ${this.live?.record.config.id} stopped`);
      this.setLive(null);
      return;
    }
    const c = record.config;
    const variants = new Map<string, ModelSlot>();
    for (const v of c.variants) if (v.model && !this.isDefault(v.model)) variants.set(v.name, await this.modelFor(v.model));
    // the shadow scores impressions where the feedback join runs: only there is its model loaded
    const shadow = c.shadow && this.options.feedbackJoin ? await this.modelFor(c.shadow.model) : null;
    this.setLive({ record, variants, shadow, json });
    this.log.log(
      `experiment ${c.id} in force: ${c.variants.map((v) => `${v.name} (${v.share}) → ${v.model ? modelKey(v.model) : this.options.modelName}`).join(', ')}` +
        `${c.holdout > 0 ? `, holdout ${c.holdout}` : ''}${c.shadow ? `; shadow ${modelKey(c.shadow.model)} on ${c.shadow.sample} of requests` : ''}`,
    );
  }

  private setLive(live: Live | null): void {
    this.metrics.variantInfo.reset();
    this.live = live;
    if (live) {
      const c = live.record.config;
      const names = [...c.variants.map((v) => v.name), ...(c.holdout > 0 ? [HOLDOUT] : [])];
      for (const variant of names) {
        const slot = live.variants.get(variant);
        const model = slot?.model ?? this.slot.model;
        this.metrics.variantInfo.set({ experiment: c.id, variant, model: model ? `${model.name}@${model.version}` : this.options.modelName }, 1);
        // every per-variant series starts at 0: rate() over "nothing yet" is 0, not "no data"
        const labels = { experiment: c.id, variant };
        for (const m of [this.metrics.impressions, this.metrics.clickedImpressions, this.metrics.clicks, this.metrics.clickPositions, this.metrics.carts, this.metrics.conversions, this.metrics.revenue]) m.inc(labels, 0);
      }
    }
    // models no experiment uses any more are released (after their in-flight requests)
    const used = new Set<ModelSlot>(live ? [...live.variants.values(), ...(live.shadow ? [live.shadow] : [])] : []);
    for (const [key, slot] of this.models) {
      if (!used.has(slot)) {
        slot.close();
        this.models.delete(key);
      }
    }
  }

  /** The scorer's own model, promoted version: no second copy. */
  private isDefault(m: ModelChoice): boolean {
    return m.name === this.options.modelName && m.version === undefined;
  }

  private async modelFor(choice: ModelChoice): Promise<ModelSlot> {
    const key = modelKey(choice);
    const have = this.models.get(key);
    if (have) return have;
    const version = choice.version ?? (await this.modelStore.current(choice.name));
    if (!version) throw new Error(`${choice.name} has no promoted version in the model store`);
    const slot = new ModelSlot();
    slot.swap(await this.loader.prepare(choice.name, version));
    this.models.set(key, slot);
    return slot;
  }

  /** Models followed by name (no version) move to the newly promoted version (announcement or poll). */
  async refreshFollowed(name?: string): Promise<void> {
    for (const [key, slot] of this.models) {
      if (key.includes('@') || (name !== undefined && key !== name)) continue;
      const version = await this.modelStore.current(key);
      if (!version || slot.model?.version === version) continue;
      try {
        slot.swap(await this.loader.prepare(key, version));
        this.log.log(`experiment model ${key} now at ${version}`);
      } catch (err) {
        this.log.error(`cannot load ${key}@${version} for the experiment: ${(err as Error).message}`);
      }
    }
  }

  /** The model and variant for each subject (every model acquired: release each). */
  route(subjects: readonly EventSubject[]): Route[] {
    const live = this.live;
    const routes: Route[] = [];
    try {
      for (const s of subjects) {
        if (!live) {
          routes.push({ model: this.acquireDefault() });
          continue;
        }
        const c = live.record.config;
        const variant = assignVariant(c, assignmentKey(s));
        const slot = variantModel(c, variant) ? live.variants.get(variant) : undefined;
        routes.push({ model: slot?.acquire() ?? this.acquireDefault(), experiment: { id: c.id, variant } });
      }
    } catch (err) {
      for (const r of routes) r.model.release();
      throw err;
    }
    return routes;
  }

  private acquireDefault(): ServingModel {
    const model = this.slot.acquire();
    if (!model) throw new NoModelError(this.options.modelName);
    return model;
  }

  /**
   * The shadow model for an impression of the experiment in force, when the impression's request is
   * in the shadow's sample (acquired: release it); null otherwise. Only where the join runs
   * (SCORER_FEEDBACK_JOIN): the serving replicas do not load the shadow.
   */
  shadowFor(imp: Pick<ImpressionV1, 'experiment' | 'requestId'>): ServingModel | null {
    const live = this.live;
    const s = live?.record.config.shadow;
    if (!s || !live?.shadow || live.record.config.id !== imp.experiment || bucketOf('shadow', imp.requestId) >= s.sample) return null;
    return live.shadow.acquire() ?? null;
  }

  /**
   * Queues an answer's impression for the impressions topic. The answer never waits for Kafka:
   * impressions go out in one publish per IMPRESSION_FLUSH_MS (or per IMPRESSION_BATCH), and beyond
   * MAX_IMPRESSIONS_IN_FLIGHT queued or unacknowledged ones, new ones are dropped and counted.
   */
  impression(subject: EventSubject, route: ImpressionV1['route'], requestId: string, experiment: { id: string; variant: string }, model: ServingModel, items: readonly string[]): void {
    if (this.inFlight + this.queued.length >= MAX_IMPRESSIONS_IN_FLIGHT) {
      this.metrics.published.inc({ outcome: 'dropped' });
      return;
    }
    const imp: ImpressionV1 = {
      requestId,
      experiment: experiment.id,
      variant: experiment.variant,
      ...(subject.kind === 'user' ? { userId: subject.id } : { sessionId: subject.id }),
      route,
      items: [...items],
      model: { name: model.name, version: model.version },
      ts: Date.now(),
    };
    this.queued.push({ topic: TOPICS.IMPRESSIONS, key: subjectKey(subject), value: JSON.stringify(imp) });
    if (this.queued.length >= IMPRESSION_BATCH) this.flushImpressions();
    else this.flushTimer ??= setTimeout(() => this.flushImpressions(), IMPRESSION_FLUSH_MS);
  }

  private flushImpressions(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.queued.splice(0);
    if (batch.length === 0) return;
    this.inFlight += batch.length;
    this.bus
      .publish(batch)
      .then(() => this.metrics.published.inc({ outcome: 'published' }, batch.length))
      .catch((err: Error) => {
        this.metrics.published.inc({ outcome: 'failed' }, batch.length);
        this.log.warn(`${batch.length} impressions not published: ${err.message}`);
      })
      .finally(() => (this.inFlight -= batch.length));
  }

  /** The join settings of an experiment (its K and attribution window). */
  joinSettings(record: ExperimentRecord, now = Date.now()): { k: number; ttlMs: number; now: number } {
    return { k: record.config.k ?? DEFAULT_CTR_K, ttlMs: attributionMs(record.config), now };
  }
}

/** A new request id: every answer carries one, which clicks pass back as `requestId`. */
export function newRequestId(): string {
  return randomUUID();
}
