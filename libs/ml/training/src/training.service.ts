import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { MemoryBus, type Bus } from '@seqrec/bus';
import { TOPICS, decodeItem, type ModelPromotedV1 } from '@seqrec/contracts';
import { initBackend, itemContentFeatures, type BackendSettings, type ContentFeature } from '@seqrec/model';
import { FsModelStore, TrainedBeforeDeletionError, UnknownVersionError, describeModels, type ModelStore, type ModelSummary } from '@seqrec/model-store';
import { BUS, CATALOGUE_STORE } from '@seqrec/nest-platform';
import type { CatalogueStore } from '@seqrec/window';
import type { ContentSource } from './content';
import { TrainingPipeline, type TrainableModel, type TrainingOptions, type TrainingRequest, type TrainingResult } from './pipeline';
import { writeEventsSnapshot, type DataSource } from './sources';
import { trainInChildProcess, type PortableTrainingRequest } from './training-process';
import { MODEL_STORE, TRAINING_METRICS, TRAINING_OPTIONS } from './training.constants';
import type { TrainingMetrics } from './training.metrics';
import { SeqrecError } from '@seqrec/contracts';

export interface TrainingServiceOptions {
  model: TrainableModel;
  /** 0: no schedule. */
  intervalMinutes: number;
  /** 0: replay everything retained. */
  lookbackHours: number;
  warmStart: boolean;
  /** Start a run when the application has started. */
  runOnStart?: boolean;
  /** Exit the process after the first run (0: succeeded, 1: failed): job mode. */
  exitAfterRun?: boolean;
  /** Train from this file instead of the events topic. */
  dataPath: string;
  dataFormat: 'auto' | 'sasrec' | 's3rec' | 'taobao' | 'yoochoose';
  options: Partial<TrainingOptions>;
  /** Brokers for the events-topic replay; null in embedded mode. */
  kafka: { brokers: string[]; namespace: string; ssl: boolean } | null;
  /** The model runtime's settings (default: the process environment's). */
  backend?: BackendSettings;
  /**
   * After a user deletion, start the retraining that forgets the user this many minutes later
   * (deletions meanwhile share it); 0: at once. Default 0.
   */
  retrainAfterDeletionMinutes?: number;
  /**
   * `process` (default): each run in a child process ({@link trainInChildProcess}), so TensorFlow
   * kernels never block this process's event loop (its HTTP API, or the scorer sharing it in
   * embedded mode); needs a filesystem model store. `inline`: on this event loop.
   */
  isolation?: 'process' | 'inline';
}

export type RunStatus = 'running' | 'succeeded' | 'failed';

export interface TrainingRun {
  id: string;
  model: TrainableModel;
  trigger: 'api' | 'schedule' | 'deletion';
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  progress?: { epoch: number; epochs: number; batch: number; batches: number; loss: number; etaSeconds: number };
  result?: Pick<TrainingResult, 'version' | 'location' | 'backend' | 'promoted' | 'metrics' | 'timings' | 'bestEpoch' | 'warmStart' | 'data'> & {
    promotion: string;
    dataset: TrainingResult['dataset'];
  };
  error?: string;
}

/** Thrown by {@link TrainingService.start} while a run is in progress (expected: the API answers 409). */
export class TrainingInProgressError extends SeqrecError {
  constructor(readonly runId: string) {
    super(`training run ${runId} is in progress`, { retriable: true, context: { runId } });
    this.name = 'TrainingInProgressError';
  }
}

/** Thrown by {@link TrainingService.promote} when several models hold the version and none was named (the API answers 409). */
export class AmbiguousVersionError extends SeqrecError {
  constructor(
    readonly version: string,
    readonly models: string[],
  ) {
    super(`version ${version} is in several models (${models.join(', ')}): name the model`, { retriable: false, context: { version, models } });
    this.name = 'AmbiguousVersionError';
  }
}

/**
 * The store promoted the version but the announcement could not be published (the bus is down):
 * instances that restart load it from CURRENT, running ones do not yet. Retry: promoting again
 * announces again (the API answers 503).
 */
export class PromotionNotAnnouncedError extends SeqrecError {
  constructor(
    readonly model: string,
    readonly version: string,
    cause: Error,
  ) {
    super(`${model}/${version} is promoted in the model store but its announcement failed (${cause.message}): retry to announce it`, {
      retriable: true,
      context: { model, version },
    });
    this.name = 'PromotionNotAnnouncedError';
  }
}

/** What {@link TrainingService.promote} did. */
export interface ManualPromotion {
  model: string;
  version: string;
  /** The version promoted before (null: none). */
  previous: string | null;
  /** It was the promoted version already (the announcement is sent again all the same). */
  alreadyPromoted: boolean;
  pinned: boolean;
  promotedAt: string;
}

const KEEP_RUNS = 50;

/** Only the backend's own settings cross to a child (the options may hold a whole service env). */
const pickBackend = (b: BackendSettings): BackendSettings => ({
  SEQREC_TF_BACKEND: b.SEQREC_TF_BACKEND,
  TF_ENABLE_ONEDNN_OPTS: b.TF_ENABLE_ONEDNN_OPTS,
  SEQREC_SIMD: b.SEQREC_SIMD,
});

/**
 * One training run at a time, on demand (`start`) or every TRAIN_INTERVAL_MINUTES. A run replays
 * the events topic (or reads TRAIN_DATA_PATH), trains, evaluates, writes a versioned artifact and
 * promotes it when it beats the promoted version on validation NDCG@10; a promotion is announced
 * as `ModelPromotedV1` on the models topic.
 */
@Injectable()
export class TrainingService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Trainer');
  private readonly runs = new Map<string, TrainingRun>();
  private active: { run: TrainingRun; done: Promise<void> } | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** A retraining after a deletion: its timer, or `after-run` when it waits for the run in progress. */
  private deletionRun: NodeJS.Timeout | 'after-run' | null = null;
  private readonly pipeline: TrainingPipeline;

  constructor(
    @Inject(TRAINING_OPTIONS) private readonly options: TrainingServiceOptions,
    @Inject(MODEL_STORE) private readonly store: ModelStore,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(TRAINING_METRICS) private readonly metrics: TrainingMetrics,
    @Inject(CATALOGUE_STORE) private readonly catalogue: CatalogueStore,
  ) {
    this.pipeline = new TrainingPipeline(store, options.backend);
  }

  async onModuleInit(): Promise<void> {
    const backend = await initBackend(undefined, this.options.backend);
    this.metrics.backend.set({ backend: backend.name, native: String(backend.native) }, 1);
    if (backend.native) this.log.log(`TF.js backend: ${backend.name} (${backend.version})`);
    else {
      this.log.error(
        `TF.js backend is "${backend.name}", NOT native tensorflow: training is 10-100x slower. ${backend.fallbackReasons.join('; ')}`,
      );
    }
    if (this.options.intervalMinutes > 0) {
      this.timer = setInterval(() => this.scheduled(), this.options.intervalMinutes * 60_000);
      this.timer.unref();
      this.log.log(`retraining ${this.options.model} every ${this.options.intervalMinutes} min`);
    }
  }

  onApplicationBootstrap(): void {
    if (!this.options.runOnStart) return;
    const run = this.start('schedule');
    if (this.options.exitAfterRun) {
      void this.active!.done.then(() => {
        this.log.log(`job mode: run ${run.id} ${run.status}, exiting`);
        process.exit(run.status === 'succeeded' ? 0 : 1);
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.deletionRun && this.deletionRun !== 'after-run') clearTimeout(this.deletionRun);
    this.deletionRun = null;
    // A run cannot be interrupted mid-step; let it finish (it holds tensors and a store write).
    await this.active?.done;
  }

  private scheduled(): void {
    if (this.active) {
      this.log.warn(`scheduled run skipped: ${this.active.run.id} still in progress`);
      return;
    }
    this.start('schedule');
  }

  /**
   * A user was deleted (or objects) at `at`: records it in the model store (versions trained before
   * it can be neither promoted nor loaded any more) and schedules the retraining whose replay leaves
   * the user out (docs/privacy.md). A run in progress may have read the user's events: the
   * retraining starts after it. Deletions that come before the retraining starts share it.
   */
  async deletionRecorded(at: number): Promise<void> {
    await this.store.recordDeletion(at);
    if (this.options.dataPath) return; // a dataset file has no deleted users to forget
    if (this.deletionRun !== null) return;
    if (this.active) {
      this.deletionRun = 'after-run';
      void this.active.done.then(() => this.deletionRetrain());
      return;
    }
    const delayMs = (this.options.retrainAfterDeletionMinutes ?? 0) * 60_000;
    this.deletionRun = setTimeout(() => this.deletionRetrain(), delayMs);
    this.deletionRun.unref();
    this.log.log(`user deletion recorded: retraining ${delayMs > 0 ? `in ${delayMs / 60_000} min` : 'now'}`);
  }

  /** Whether a retraining after a deletion is scheduled (or waits for the run in progress). */
  get retrainScheduled(): boolean {
    return this.deletionRun !== null;
  }

  private deletionRetrain(): void {
    this.deletionRun = null;
    if (this.active) {
      // another run started meanwhile (the API, the schedule): it may have read the events before
      // the deletion reached the topic, so the retraining still follows it
      this.deletionRun = 'after-run';
      void this.active.done.then(() => this.deletionRetrain());
      return;
    }
    this.start('deletion');
  }

  /** Starts a run; throws {@link TrainingInProgressError} when one is in progress. */
  start(trigger: TrainingRun['trigger'], overrides: { model?: TrainableModel; epochs?: number } = {}): TrainingRun {
    if (this.active) throw new TrainingInProgressError(this.active.run.id);
    const run: TrainingRun = {
      id: randomUUID(),
      model: overrides.model ?? this.options.model,
      trigger,
      status: 'running',
      startedAt: new Date().toISOString(),
    };
    this.runs.set(run.id, run);
    while (this.runs.size > KEEP_RUNS) this.runs.delete(this.runs.keys().next().value!);
    this.metrics.running.set(1);
    const done = this.execute(run, overrides.epochs).finally(() => {
      this.active = null;
      this.metrics.running.set(0);
    });
    this.active = { run, done };
    return run;
  }

  getRun(id: string): TrainingRun | undefined {
    return this.runs.get(id);
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.active) await this.active.done;
  }

  /**
   * Where a run reads its data. Embedded mode (an in-memory bus) snapshots the events topic as it is
   * now to a file in `scratch`, which the run reads like any other source.
   */
  private async source(scratch: () => Promise<string>): Promise<DataSource> {
    const o = this.options;
    if (o.dataPath) return { kind: 'file', path: o.dataPath, format: o.dataFormat };
    if (!o.kafka && this.bus instanceof MemoryBus) {
      const path = join(await scratch(), 'events.jsonl');
      const from = o.lookbackHours > 0 ? Date.now() - o.lookbackHours * 3_600_000 : 0;
      const n = await writeEventsSnapshot(path, this.bus.messages(TOPICS.EVENTS), from, this.bus.messages(TOPICS.USER_DELETIONS));
      this.log.log(`snapshot of the in-memory events topic: ${n} events`);
      return { kind: 'events-file', path, name: 'events' };
    }
    if (!o.kafka) throw new Error('no training data: set TRAIN_DATA_PATH, or KAFKA_BROKERS to replay the events topic');
    return {
      kind: 'kafka',
      brokers: o.kafka.brokers,
      ssl: o.kafka.ssl,
      ...(o.kafka.namespace ? { namespace: o.kafka.namespace } : {}),
      ...(o.lookbackHours > 0 ? { from: Date.now() - o.lookbackHours * 3_600_000 } : {}),
    };
  }

  /**
   * The catalogue's content features per item, read from the catalogue store now, for the run's
   * content map; null when the catalogue is empty. Unreadable records are skipped: a content map
   * is an extra, never a reason for a run to fail.
   */
  private async content(): Promise<ContentSource | null> {
    const features = new Map<string, ContentFeature[]>();
    let bad = 0;
    try {
      await this.catalogue.scan((page) => {
        for (const [id, record] of page) {
          try {
            const f = itemContentFeatures(decodeItem(id, record));
            if (f.length > 0) features.set(id, f);
          } catch {
            bad++;
          }
        }
      });
    } catch (err) {
      this.log.warn(`catalogue unreadable, no content map this run: ${(err as Error).message}`);
      return null;
    }
    if (bad > 0) this.log.warn(`catalogue: ${bad} unreadable records left out of the content map`);
    return features.size > 0 ? { features } : null;
  }

  private async execute(run: TrainingRun, epochs: number | undefined): Promise<void> {
    const end = this.metrics.runDuration.startTimer({ model: run.model });
    this.log.log(`run ${run.id} (${run.trigger}): training ${run.model}`);
    let scratchDir: string | null = null;
    const scratch = async () => (scratchDir ??= await mkdtemp(join(tmpdir(), 'seqrec-train-')));
    try {
      const content = await this.content();
      const request: PortableTrainingRequest = {
        source: await this.source(scratch),
        model: run.model,
        options: { ...this.options.options, ...(epochs ? { epochs } : {}) },
        promote: 'if-better',
        warmStart: this.options.warmStart,
        ...(content ? { content } : {}),
      };
      const hooks: Pick<TrainingRequest, 'onProgress' | 'log'> = {
        onProgress: (p) => {
          run.progress = { epoch: p.epoch, epochs: p.epochs, batch: p.batch, batches: p.batches, loss: p.loss, etaSeconds: p.etaSeconds };
        },
        log: (msg) => this.log.log(`run ${run.id}: ${msg}`),
      };
      const result = await this.train(request, hooks);
      run.result = {
        version: result.version,
        location: result.location,
        backend: result.backend,
        promoted: result.promoted,
        promotion: result.promotion.reason,
        metrics: result.metrics,
        timings: result.timings,
        bestEpoch: result.bestEpoch,
        warmStart: result.warmStart,
        data: result.data,
        dataset: result.dataset,
      };
      if (result.promoted) {
        const message: ModelPromotedV1 = {
          model: result.name,
          version: result.version,
          uri: result.location,
          metrics: result.metrics,
          promotedAt: Date.now(),
        };
        await this.bus.publish([{ topic: TOPICS.MODELS, key: result.name, value: JSON.stringify(message) }]);
      }
      for (const [key, value] of Object.entries(result.metrics)) {
        const [split = '', protocol = '', ...rest] = key.split('.');
        this.metrics.lastMetric.set({ model: result.name, split, protocol, metric: rest.join('.') }, value);
      }
      this.metrics.lastRunTimestamp.set({ model: run.model }, Date.now() / 1000);
      this.metrics.runs.inc({ model: run.model, outcome: result.promoted ? 'promoted' : 'not_promoted' });
      run.status = 'succeeded';
      this.log.log(`run ${run.id}: ${result.promoted ? 'promoted' : 'kept the current version'} (${result.promotion.reason})`);
    } catch (err) {
      run.status = 'failed';
      run.error = err instanceof Error ? err.message : String(err);
      this.metrics.runs.inc({ model: run.model, outcome: 'failed' });
      this.log.error(`run ${run.id} failed: ${run.error}`);
    } finally {
      run.finishedAt = new Date().toISOString();
      end();
      if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
    }
  }

  private train(request: PortableTrainingRequest, hooks: Pick<TrainingRequest, 'onProgress' | 'log'>): Promise<TrainingResult> {
    if (this.options.isolation === 'inline') return this.pipeline.run({ ...request, ...hooks, progress: false });
    if (!(this.store instanceof FsModelStore)) throw new Error('training in a child process needs a filesystem model store (or TRAIN_ISOLATION=inline)');
    return trainInChildProcess({ storeRoot: this.store.root, ...(this.options.backend ? { backend: pickBackend(this.options.backend) } : {}), request }, hooks);
  }

  /**
   * An operator's promotion (a rollback): makes a stored version the promoted one through the same
   * path as a training run's (the store's CURRENT, then `ModelPromotedV1` on the models topic, which
   * every scorer and embedding instance follows), pinned unless `pin` is false (training runs then
   * keep it: {@link keepOperatorChoice}). Promoting the promoted version again changes nothing but
   * announces it again, so a retry after a failed announcement still reaches every instance.
   * The next training runs compare with the promoted version, as ever (docs/operations.md).
   * Throws {@link UnknownVersionError}, {@link AmbiguousVersionError}, and the store's
   * `TrainedBeforeDeletionError` for a version trained before the latest user deletion.
   */
  async promote(version: string, options: { model?: string; pin?: boolean } = {}): Promise<ManualPromotion> {
    const model = options.model ?? (await this.modelOf(version));
    const pin = options.pin ?? true;
    const previous = await this.store.current(model);
    try {
      await this.store.promote(model, version, { pin });
    } catch (err) {
      if (err instanceof TrainedBeforeDeletionError) this.metrics.manualPromotions.inc({ model, outcome: 'trained_before_deletion' });
      throw err;
    }
    const promotedAt = Date.now();
    const message: ModelPromotedV1 = { model, version, uri: this.store.location(model, version), metrics: (await this.store.manifest(model, version)).metrics, promotedAt };
    try {
      await this.bus.publish([{ topic: TOPICS.MODELS, key: model, value: JSON.stringify(message) }]);
    } catch (err) {
      throw new PromotionNotAnnouncedError(model, version, err as Error);
    }
    this.metrics.manualPromotions.inc({ model, outcome: previous === version ? 'already_promoted' : 'promoted' });
    this.log.log(`${model}/${version} promoted by an operator${pin ? ' and pinned' : ''} (was ${previous ?? 'none'})`);
    return { model, version, previous, alreadyPromoted: previous === version, pinned: pin, promotedAt: new Date(promotedAt).toISOString() };
  }

  /** The model holding `version`: among the store's models and the configured one. */
  private async modelOf(version: string): Promise<string> {
    const models = (await describeModels(this.store, [this.options.model])).filter((m) => m.versions.some((v) => v.version === version)).map((m) => m.model);
    if (models.length === 0) throw new UnknownVersionError(this.options.model, version);
    if (models.length > 1) throw new AmbiguousVersionError(version, models);
    return models[0]!;
  }

  /** Every model in the store with its versions (oldest first), the promoted one, their metrics and training curves. */
  async models(): Promise<ModelSummary[]> {
    return describeModels(this.store, [this.options.model, ...[...this.runs.values()].map((r) => r.model)]);
  }

}
