/**
 * The training pipeline, framework-free: data source → dataset → chronological leave-one-out →
 * train (neural: `trainModel` with early stopping on validation NDCG@10, full ranking; baselines:
 * fit) → evaluate (validation full; test full = headline, test sampled-100 for older papers) →
 * versioned artifact in the model store (weights/model, vocabulary, popularity, `metrics.json`,
 * `report.html`) → promotion when the validation NDCG@10 beats the promoted version's, unless an
 * operator pinned the promoted version ({@link keepOperatorChoice}).
 *
 * Protocol details:
 * - Neural models train on `split.train` (each user's sequence without its last two items) and
 *   select their epoch on the validation cases, as the SASRec reference code does; the test
 *   histories include the validation item. Baselines are fitted on `split.train` for the
 *   validation row, then refitted on everything before each test item for the test rows and the
 *   artifact (the `@seqrec/datasets` protocol for classic models).
 * - Everything is seeded (`seed`): initial weights, shuffling, negatives, dropout, the validation
 *   sample and the sampled-100 negatives; the same data, options and backend give the same model.
 *
 * Warm start (`warmStart: true`, neural models) starts from the promoted version of the same model
 * kind, if any:
 * - when its vocabulary is identical to the new dataset's (same ids at the same indices), its
 *   weights and architecture are the starting point (dim, maxLen and architecture options of the
 *   request are then ignored: the artifact's config wins);
 * - when the vocabulary differs (new or vanished items, another order: every scheduled retrain), a
 *   new model with the artifact's architecture and the new vocabulary is built and warm-started by
 *   `remapItemRows`: item rows (item table, item2vec's context table) are copied by item id, new
 *   items keep their seeded initialisation, every other weight is copied. This needs the request's
 *   architecture (dim, maxLen, `architecture` options) to be the artifact's; otherwise the model
 *   trains from scratch.
 * The optimiser state is not saved with a model, so a warm start begins with a fresh Adam.
 * `warmStart.reason` says what happened (or why the model trained from scratch), `warmStart.items`
 * how many items were carried over when the rows were remapped.
 */
import { performance } from 'node:perf_hooks';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IvfIndex, loadArtifact, saveArtifact, saveGraphArtifact } from '@seqrec/artifacts';
import {
  BprMfRecommender,
  CoocRecommender,
  ItemKnnRecommender,
  PopRecommender,
  evaluate,
  itemCounts,
  leaveOneOut,
  trainingSequences,
  type EvalCase,
  type EvalResult,
  type FittableRecommender,
  type GraphModel,
  type Recommender,
  type SequenceDataset,
} from '@seqrec/datasets';
import { Rng } from '@seqrec/random';
import {
  IncompatibleWeightsError,
  LOSS_KINDS,
  ExactTopK,
  architectureDifferences,
  createEncoder,
  initBackend,
  type BackendSettings,
  remapItemRows,
  resolveConfig,
  trainModel,
  userVectors,
  type EncoderConfigInput,
  type EpochReport,
  type LossKind,
  type ModelKind,
  type SequenceEncoder,
  type TrainProgress,
} from '@seqrec/model';
import { TrainedBeforeDeletionError, newVersion, trainedAfter, type ArtifactManifest, type ModelStore, type PromotionPin } from '@seqrec/model-store';
import { ProgressBar, type ProgressStream } from './progress';
import { renderReport } from './report';
import { loadSource, type DataSource } from './sources';
import { fitContentMap, type ContentMapOutcome, type ContentSource } from './content';

export const NEURAL_MODELS = ['sasrec', 'gru4rec', 'lstm', 'nextitnet', 'item2vec'] as const;
export const BASELINE_MODELS = ['pop', 'itemknn', 'cooc', 'bpr-mf'] as const;
export const TRAINABLE_MODELS = [...NEURAL_MODELS, ...BASELINE_MODELS] as const;
export type NeuralModel = (typeof NEURAL_MODELS)[number];
export type BaselineModel = (typeof BASELINE_MODELS)[number];
export type TrainableModel = (typeof TRAINABLE_MODELS)[number];

export const isNeural = (m: string): m is NeuralModel => (NEURAL_MODELS as readonly string[]).includes(m);
export const isTrainableModel = (m: string): m is TrainableModel => (TRAINABLE_MODELS as readonly string[]).includes(m);

/** The metric promotion compares: validation NDCG@10 under full ranking. */
export const PROMOTION_METRIC = 'valid.full.NDCG@10';

export interface TrainingOptions {
  /** Maximum epochs (neural models; early stopping may end sooner). */
  epochs: number;
  /** Sequences per step (item2vec: skip-gram pairs per step). */
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
  /** Next-item loss: `softmax` (full cross-entropy), `sampled-softmax`, or `bce` (SASRec's original loss). */
  loss: LossKind;
  /** Negatives per position (bce) or per batch (sampled-softmax); model default when unset. */
  negatives?: number;
  /** Longest history the model reads. */
  maxLen: number;
  /** Embedding width. */
  dim: number;
  seed: number;
  /** Validations without improvement before stopping. */
  patience: number;
  /** Validate every n epochs. Default 1. */
  validateEvery?: number;
  /** Cap on steps per epoch (smoke tests, benchmarks). */
  maxBatchesPerEpoch?: number;
  /** Training time budget in minutes: no new epoch starts after it (the best epoch so far is kept). */
  maxMinutes?: number;
  /** Also measure the scorer's approximate top-k index on this model: IVF lists (0/unset: not measured) and lists probed. */
  indexLists?: number;
  indexProbes?: number;
  /** Validation cases used for early stopping, a seeded sample (0 = all). The promotion metric always uses all. */
  validUsers: number;
  /** Cap on the cases of the reported rows (validation and test), a seeded sample (0 = all). For smoke runs and speed benchmarks only: reported quality uses all. */
  evalUsers?: number;
  /** Leave-one-out: users with fewer items get no case. */
  minLength: number;
  /** Negatives of the sampled protocol. */
  sampledNegatives: number;
  /** Architecture overrides (blocks, heads, dropout, units, window, ...), passed to `createEncoder`. */
  architecture?: Record<string, unknown>;
  /** Baseline hyper-parameters (e.g. `{ neighbours: 100 }` for itemknn), passed to its constructor. */
  baseline?: Record<string, unknown>;
}

export const DEFAULT_TRAINING_OPTIONS: Readonly<TrainingOptions> = Object.freeze({
  epochs: 20,
  batchSize: 128,
  lr: 0.001,
  loss: 'softmax' as LossKind,
  maxLen: 50,
  dim: 64,
  seed: 42,
  patience: 3,
  validUsers: 0,
  minLength: 3,
  sampledNegatives: 100,
});

export type PromotionMode = 'if-better' | 'always' | 'never';

export interface TrainingRequest {
  source: DataSource;
  model: TrainableModel;
  options?: Partial<TrainingOptions>;
  /** Store key of the artifact; default the model kind (lets e.g. `sasrec-bce` live next to `sasrec`). */
  name?: string;
  /** Default `if-better`. */
  promote?: PromotionMode;
  /** Start from the promoted version's weights (neural models; item rows remapped when the vocabulary changed). */
  warmStart?: boolean;
  /**
   * The catalogue's content of the items (encoder models): a content map from it to the item table
   * is fitted after training and saved with the artifact, for items the model has not seen.
   */
  content?: ContentSource;
  /** Where the progress bar goes (default stderr); false: none. */
  progress?: ProgressStream | false;
  onProgress?: (p: TrainProgress) => void;
  /** Progress messages (loading, evaluating, saving). */
  log?: (msg: string) => void;
}

export interface PromotionDecision {
  promote: boolean;
  reason: string;
  metric: string;
  candidate: number;
  current: { version: string; value: number | null } | null;
}

export interface WarmStartOutcome {
  used: boolean;
  /** The version started from (when used). */
  from?: string;
  /** What happened, or why the model trained from scratch. */
  reason: string;
  /** Item counts when the item rows were remapped to a changed vocabulary: carried over, new, gone. */
  items?: { carried: number; added: number; removed: number };
}

export interface TrainingResult {
  model: TrainableModel;
  name: string;
  version: string;
  location: string;
  data: string;
  dataset: { name: string; users: number; items: number; interactions: number };
  backend: string;
  /** Library versions of the backend, and for native whether oneDNN is on; `none` without TF. */
  backendVersion: string;
  rows: EvalResult[];
  /** Flattened `<split>.<protocol>.<metric>` values (what the manifest and ModelPromotedV1 carry). */
  metrics: Record<string, number>;
  promotion: PromotionDecision;
  promoted: boolean;
  warmStart: WarmStartOutcome | null;
  epochs: EpochReport[];
  bestEpoch: number | null;
  stoppedEarly: boolean;
  /** Why training ended before its epochs: patience (no validation improvement) or the time budget. */
  stopReason: 'patience' | 'time-budget' | null;
  /** recall@20 of the approximate index (IVF) against exact top-20 for test users' vectors, when asked for. */
  index: IndexRecall | null;
  /** The content map fitted for new items (without the map itself), when the request carried content. */
  contentMap: Omit<ContentMapOutcome, 'map'> | null;
  options: TrainingOptions;
  timings: { loadSeconds: number; trainSeconds: number; evalSeconds: number; saveSeconds: number; totalSeconds: number };
  /** Peak resident set size of this process so far, MB. */
  peakRssMB: number;
  sourceDetails: Record<string, unknown>;
}

export interface IndexRecall {
  lists: number;
  probes: number;
  /** Test users whose vectors were queried. */
  users: number;
  recallAt20: number;
  buildSeconds: number;
  /**
   * The scorer's default exact top-20 (int8 scan + full-precision rescoring, ExactTopK) on the same
   * queries: how many of the items it rescored (the bound's tightness on this model's vectors) and
   * its time per query.
   */
  exactInt8: { meanRescored: number; p99Rescored: number; msPerQuery: number };
}

/**
 * recall@20 of the scorer's IVF index against exact top-20 on this model: user vectors of (at most
 * 2,000) test users' histories as queries, the same measure the scorer exports at model load.
 */
export async function measureIndexRecall(encoder: SequenceEncoder, cases: readonly EvalCase[], lists: number, probes: number): Promise<IndexRecall> {
  const sample = cases.slice(0, 2_000);
  const d = encoder.config.dim;
  const table = encoder.itemTable().dataSync() as Float32Array;
  const b0 = performance.now();
  const index = await IvfIndex.build(table, encoder.config.numItems + 1, d, { lists, probes });
  const buildSeconds = (performance.now() - b0) / 1000;
  const queries: Float32Array[] = [];
  for (let i = 0; i < sample.length; i += 256) {
    const chunk = sample.slice(i, i + 256);
    const types = encoder.config.numTypes > 0 ? chunk.map((c) => c.historyTypes ?? new Uint8Array(c.history.length)) : undefined;
    queries.push(...(await userVectors(encoder, chunk.map((c) => c.history), types)));
  }
  const exact = new ExactTopK(table, encoder.config.numItems + 1, d, 1);
  const rescored: number[] = [];
  const e0 = performance.now();
  for (const q of queries) {
    exact.topK(q, 20);
    rescored.push(exact.lastRescored);
  }
  const msPerQuery = (performance.now() - e0) / Math.max(1, queries.length);
  rescored.sort((a, b) => a - b);
  const exactInt8 = {
    meanRescored: Number((rescored.reduce((a, b) => a + b, 0) / Math.max(1, rescored.length)).toFixed(1)),
    p99Rescored: rescored[Math.max(0, Math.ceil(0.99 * rescored.length) - 1)] ?? 0,
    msPerQuery: Number(msPerQuery.toFixed(3)),
  };
  return { lists: index.lists, probes: index.probes, users: queries.length, recallAt20: await index.recallAt(queries, 20), buildSeconds, exactInt8 };
}

/** The metrics kept per row in `TrainingResult.metrics`. */
export const HEADLINE_METRICS = ['HR@10', 'NDCG@10', 'HR@20', 'NDCG@20', 'MRR', 'Recall@20', 'Precision@10', 'F1@10'];

export function flattenMetrics(rows: readonly EvalResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) for (const m of HEADLINE_METRICS) if (r.metrics[m] !== undefined) out[`${r.split}.${r.protocol}.${m}`] = r.metrics[m]!;
  return out;
}

/**
 * Promotion rule: `always`/`never` as said; `if-better` promotes when nothing is promoted, when the
 * promoted version has no value of the metric, or when the candidate's is strictly greater.
 */
export function decidePromotion(
  mode: PromotionMode,
  candidate: number,
  current: { version: string; metrics: Record<string, number> } | null,
  metric = PROMOTION_METRIC,
): PromotionDecision {
  const cur = current ? { version: current.version, value: current.metrics[metric] ?? null } : null;
  const base = { metric, candidate, current: cur };
  if (mode === 'never') return { ...base, promote: false, reason: 'promotion not requested' };
  if (mode === 'always') return { ...base, promote: true, reason: 'promotion forced' };
  if (!cur) return { ...base, promote: true, reason: 'no promoted version yet' };
  if (cur.value === null) return { ...base, promote: true, reason: `promoted version ${cur.version} has no ${metric}` };
  if (candidate > cur.value) {
    return { ...base, promote: true, reason: `${metric} ${candidate.toFixed(4)} beats ${cur.value.toFixed(4)} of ${cur.version}` };
  }
  return { ...base, promote: false, reason: `${metric} ${candidate.toFixed(4)} does not beat ${cur.value.toFixed(4)} of ${cur.version}` };
}

/**
 * What an operator chose wins over an `if-better` run (docs/operations.md, "Rolling back a model").
 * The run compared its candidate with `compared`, the version served (CURRENT) when it started,
 * never with the newest version; checked again just before the promotion, it does not promote
 * - when CURRENT is pinned (an operator promoted it through the API or the CLI: a rollback), unless
 *   the run started from a version trained before a user deletion (`comparedServable` false), which
 *   can no longer be served and which the run replaces whatever its score;
 * - when CURRENT is not the version it compared with any more: an operator promoted another version
 *   while it trained, and the comparison was with a model no longer served.
 * `always` and `never` are explicit choices and pass unchanged.
 */
export function keepOperatorChoice(
  mode: PromotionMode,
  decision: PromotionDecision,
  state: { compared: string | null; comparedServable: boolean; current: string | null; pin: PromotionPin | null },
  candidateVersion: string,
): PromotionDecision {
  if (mode !== 'if-better' || !decision.promote) return decision;
  if (state.current !== state.compared) {
    return {
      ...decision,
      promote: false,
      reason: `the promoted version changed from ${state.compared ?? 'none'} to ${state.current ?? 'none'} while the run trained (${decision.reason}); promote ${candidateVersion} by hand if it should serve`,
    };
  }
  if (state.pin && state.pin.version === state.current && state.comparedServable) {
    return {
      ...decision,
      promote: false,
      reason: `${state.pin.version} is pinned: an operator promoted it at ${state.pin.at} (${decision.reason}); promote ${candidateVersion} by hand if it should serve`,
    };
  }
  return decision;
}

/** Validates resolved options; throws a RangeError naming the field. */
export function validateOptions(o: TrainingOptions): void {
  const posInt = (f: keyof TrainingOptions) => {
    const v = o[f] as number;
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${f} must be a positive integer, got ${v}`);
  };
  (['epochs', 'batchSize', 'maxLen', 'dim', 'patience', 'sampledNegatives'] as const).forEach(posInt);
  if (!(o.lr > 0)) throw new RangeError(`lr must be > 0, got ${o.lr}`);
  if (o.maxMinutes !== undefined && !(o.maxMinutes > 0)) throw new RangeError(`maxMinutes must be > 0, got ${o.maxMinutes}`);
  if (!Number.isInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
  if (!Number.isInteger(o.validUsers) || o.validUsers < 0) throw new RangeError(`validUsers must be an integer >= 0, got ${o.validUsers}`);
  if (!Number.isInteger(o.minLength) || o.minLength < 3) throw new RangeError(`minLength must be an integer >= 3, got ${o.minLength}`);
  if (!LOSS_KINDS.includes(o.loss)) throw new RangeError(`loss must be one of ${LOSS_KINDS.join('|')}, got ${o.loss}`);
}

function makeBaseline(kind: BaselineModel, params: Record<string, unknown>, seed: number): FittableRecommender<object> {
  switch (kind) {
    case 'pop':
      return new PopRecommender();
    case 'itemknn':
      return new ItemKnnRecommender(params);
    case 'cooc':
      return new CoocRecommender(params);
    case 'bpr-mf':
      return new BprMfRecommender({ seed, ...params });
  }
}

/** Same ids at the same indices. */
function sameVocabulary(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** Runs training requests against one model store. */
export class TrainingPipeline {
  /** @param backend the model runtime's settings (default: the process environment's) */
  constructor(
    readonly store: ModelStore,
    private readonly backend?: BackendSettings,
  ) {}

  async run(req: TrainingRequest): Promise<TrainingResult> {
    const t0 = performance.now();
    const log = req.log ?? (() => undefined);
    if (!isTrainableModel(req.model)) throw new RangeError(`model must be one of ${TRAINABLE_MODELS.join('|')}, got ${String(req.model)}`);
    const options: TrainingOptions = { ...DEFAULT_TRAINING_OPTIONS, ...stripUndefined(req.options ?? {}) };
    validateOptions(options);
    const name = req.name ?? req.model;
    const neural = isNeural(req.model);

    let backend = 'none';
    let backendVersion = 'none';
    if (neural) {
      const info = await initBackend(undefined, this.backend);
      backend = info.name;
      backendVersion = info.version;
      if (!info.native) log(`WARNING: TF.js backend is "${info.name}", not native tensorflow: training is much slower (${info.fallbackReasons.join('; ')})`);
    }

    // the data is read after this instant: a user deleted before it is not in it (docs/privacy.md)
    const dataAt = new Date();
    const loaded = await loadSource(req.source, log);
    const dataset = loaded.dataset;
    const deletions = loaded.details['latestDeletion'];
    if (typeof deletions === 'number') await this.store.recordDeletion(deletions);
    const latestDeletion = await this.store.latestDeletion();
    if (dataset.numItems < 2) throw new Error(`dataset ${dataset.name} has ${dataset.numItems} item(s): nothing to rank`);
    const split = leaveOneOut(dataset, { minLength: options.minLength });
    if (split.valid.length === 0) throw new Error(`dataset ${dataset.name}: no user has ${options.minLength}+ items, no validation case`);
    const interactions = dataset.sequences.reduce((n, s) => n + s.length, 0);
    const loadSeconds = seconds(t0);
    log(`${dataset.name}: ${dataset.sequences.length} users, ${dataset.numItems} items, ${interactions} interactions, ${split.valid.length} cases (${loadSeconds.toFixed(1)} s)`);

    const currentVersion = await this.store.current(name);
    const currentManifest = currentVersion ? await this.store.manifest(name, currentVersion) : null;
    // a version trained before a user deletion may hold the user: neither a warm start nor a bar to beat
    const currentForgets = currentManifest === null || trainedAfter(currentManifest, latestDeletion);
    const validRows = sampleCases(split.valid, options.evalUsers ?? 0, options.seed + 1);
    const testRows = sampleCases(split.test, options.evalUsers ?? 0, options.seed + 1);
    const evalCommon = { dataset, ties: 'pessimistic' as const, seed: options.seed, negatives: options.sampledNegatives };

    let trained: Recommender;
    let encoder: SequenceEncoder | null = null;
    let popularity: Float64Array;
    let epochs: EpochReport[] = [];
    let bestEpoch: number | null = null;
    let stoppedEarly = false;
    let stopReason: 'patience' | 'time-budget' | null = null;
    let warmStart: WarmStartOutcome | null = null;
    const losses: Array<[number, number]> = [];
    let trainSeconds: number;
    let testModel: Recommender;
    let baselineParams: Record<string, unknown> | null = null;
    let graphModel: GraphModel | null = null;
    const rows: EvalResult[] = [];
    let evalSeconds = 0;

    try {
      if (neural) {
        const requested = {
          kind: req.model as ModelKind,
          numItems: dataset.numItems,
          dim: options.dim,
          maxLen: options.maxLen,
          seed: options.seed,
          ...(options.architecture ?? {}),
        } as EncoderConfigInput;
        const w = req.warmStart && currentForgets ? await this.tryWarmStart(name, req.model, currentVersion, dataset, requested) : null;
        warmStart =
          w?.outcome ??
          (req.warmStart ? { used: false, reason: currentForgets ? 'no promoted version to start from' : `promoted ${currentVersion} was trained before a user deletion: trained from scratch` } : null);
        if (warmStart) log(`warm start: ${warmStart.reason}`);
        encoder = w?.encoder ?? createEncoder(requested);
        const enc = encoder;
        const validCases = sampleCases(split.valid, options.validUsers, options.seed);
        const bar = req.progress === false ? null : new ProgressBar(`${name}`, req.progress ?? process.stderr);
        const report = await trainModel(enc, split, {
          epochs: options.epochs,
          batchSize: options.batchSize,
          lr: options.lr,
          loss: options.loss,
          seed: options.seed,
          maxLen: Math.min(options.maxLen, enc.config.maxLen),
          patience: options.patience,
          ...(options.negatives ? { negatives: options.negatives } : {}),
          ...(options.validateEvery ? { validateEvery: options.validateEvery } : {}),
          ...(options.maxBatchesPerEpoch ? { maxBatchesPerEpoch: options.maxBatchesPerEpoch } : {}),
          ...(options.maxMinutes ? { maxSeconds: options.maxMinutes * 60 } : {}),
          progressEvery: 5,
          onProgress: (p) => {
            losses.push([p.epoch - 1 + p.batch / p.batches, p.loss]);
            bar?.update(p);
            req.onProgress?.(p);
          },
          validate: async (epoch) => {
            bar?.newline();
            const r = await evaluate(enc, validCases, { ...evalCommon, split: 'valid', protocol: 'full' });
            log(`epoch ${epoch}: valid NDCG@10 ${r.metrics['NDCG@10']!.toFixed(4)} HR@10 ${r.metrics['HR@10']!.toFixed(4)} (${validCases.length} cases)`);
            return { ndcg10: r.metrics['NDCG@10']! };
          },
        });
        bar?.newline();
        epochs = report.epochs;
        bestEpoch = report.bestEpoch;
        stoppedEarly = report.stoppedEarly;
        stopReason = report.stopReason;
        trainSeconds = report.epochs.reduce((s, e) => s + e.seconds, 0);
        evalSeconds += report.epochs.reduce((s, e) => s + (e.validateSeconds ?? 0), 0);
        trained = enc;
        testModel = enc;
        popularity = itemCounts(split.train, dataset.numItems);
      } else {
        const kind = req.model as BaselineModel;
        const { counts, ...params } = options.baseline ?? {};
        if (counts !== undefined && (kind !== 'pop' || (counts !== 'all' && counts !== 'train'))) {
          throw new RangeError(`baseline parameter counts=${String(counts)}: only pop takes counts, train (default) or all`);
        }
        // pop with counts=all counts every interaction, the held-out validation and test items
        // included: leaky by construction, it is the Pop of the S3-Rec code and only reproduces
        // figures published with it. Default: training interactions only.
        const leaky = counts === 'all';
        const f0 = performance.now();
        const m = makeBaseline(kind, params, options.seed).fit(leaky ? dataset.sequences : split.train, dataset.numItems);
        trainSeconds = seconds(f0);
        trained = m;
        baselineParams = { ...m.params, ...(leaky ? { counts: 'all (held-out items included: S3-Rec protocol, leaky)' } : {}) };
        const v0 = performance.now();
        rows.push(await evaluate(m, validRows, { ...evalCommon, split: 'valid', protocol: 'full', params: baselineParams }));
        evalSeconds += seconds(v0);
        const testTrain = trainingSequences(split, 'test');
        const f1 = performance.now();
        testModel = makeBaseline(kind, params, options.seed).fit(leaky ? dataset.sequences : testTrain, dataset.numItems);
        trainSeconds += seconds(f1);
        // Neighbourhood models (and pop) are served from their item graph: the artifact is the model the test rows describe.
        graphModel = 'asGraph' in testModel ? (testModel as Recommender & { asGraph(): GraphModel }).asGraph() : null;
        popularity = itemCounts(testTrain, dataset.numItems);
      }
      const v1 = performance.now();
      if (neural) rows.push(await evaluate(trained, validRows, { ...evalCommon, split: 'valid', protocol: 'full' }));
      rows.push(await evaluate(testModel, testRows, { ...evalCommon, split: 'test', protocol: 'full', ...(baselineParams ? { params: baselineParams } : {}) }));
      rows.push(await evaluate(testModel, testRows, { ...evalCommon, split: 'test', protocol: 'sampled', ...(baselineParams ? { params: baselineParams } : {}) }));
      evalSeconds += seconds(v1);
      for (const r of rows) {
        r.model = name;
        r.params = { ...(r.params ?? {}), backend, ...(neural ? { loss: options.loss, epochs: epochs.length, bestEpoch } : {}) };
        r.fitMs = trainSeconds * 1000;
      }
      log(`test full NDCG@10 ${rows.find((r) => r.split === 'test' && r.protocol === 'full')!.metrics['NDCG@10']!.toFixed(4)}`);
      let index: IndexRecall | null = null;
      if (neural && options.indexLists && (testModel as SequenceEncoder).perPosition) {
        index = await measureIndexRecall(testModel as SequenceEncoder, testRows, options.indexLists, options.indexProbes ?? 8);
        log(`approximate index (${index.lists} lists, ${index.probes} probed): recall@20 vs exact ${index.recallAt20.toFixed(4)} over ${index.users} test users`);
        log(`exact int8 top-20: ${index.exactInt8.meanRescored} items rescored per query (p99 ${index.exactInt8.p99Rescored}) of ${(testModel as SequenceEncoder).config.numItems}, ${index.exactInt8.msPerQuery} ms per query`);
      }

      let content: ContentMapOutcome | null = null;
      if (encoder && req.content) {
        content = fitContentMap(encoder, dataset.itemIds, req.content, options.seed);
        log(`content map: ${content.map ? content.reason : `none, ${content.reason}`} (${content.seconds.toFixed(1)} s)`);
      }
      const contentMap = content ? (({ map: _map, ...rest }) => rest)(content) : null;

      const metrics = flattenMetrics(rows);
      const candidate = metrics[PROMOTION_METRIC]!;
      let promotion = decidePromotion(req.promote ?? 'if-better', candidate, currentManifest ? { version: currentVersion!, metrics: currentManifest.metrics } : null);
      if (!promotion.promote && !currentForgets && (req.promote ?? 'if-better') === 'if-better') {
        promotion = { ...promotion, promote: true, reason: `promoted ${currentVersion} was trained before a user deletion (${promotion.reason})` };
      }
      const version = newVersion();
      const operatorState = async () => ({ compared: currentVersion, comparedServable: currentForgets, current: await this.store.current(name), pin: await this.store.pinned(name) });
      promotion = keepOperatorChoice(req.promote ?? 'if-better', promotion, await operatorState(), version);
      const s0 = performance.now();
      const totalSoFar = seconds(t0);
      const timings = { loadSeconds, trainSeconds, evalSeconds, saveSeconds: 0, totalSeconds: totalSoFar };
      const manifest: ArtifactManifest = {
        model: name,
        version,
        createdAt: new Date().toISOString(),
        dataAt: dataAt.toISOString(),
        data: loaded.description,
        metrics,
        backend,
        ...(warmStart?.used && warmStart.from ? { parent: warmStart.from } : {}),
        ...(epochs.length > 0
          ? { trainingCurve: epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, seconds: e.seconds, ...(e.ndcg10 !== undefined ? { validNdcg10: e.ndcg10 } : {}) })) }
          : {}),
        details: {
          kind: req.model,
          dataset: { name: dataset.name, users: dataset.sequences.length, items: dataset.numItems, interactions },
          options,
          ...(encoder ? { config: encoder.config } : { params: baselineParams }),
          epochs: epochs.length,
          bestEpoch,
          stoppedEarly,
          stopReason,
          warmStart,
          promotion,
          timings,
          ...(contentMap ? { contentMap } : {}),
        },
      };
      const summary = {
        model: req.model,
        name,
        version,
        data: loaded.description,
        dataset: manifest.details!['dataset'],
        backend,
        backendVersion,
        options,
        metrics,
        rows,
        promotion,
        warmStart,
        epochs,
        bestEpoch,
        stoppedEarly,
        stopReason,
        index,
        contentMap,
        timings,
      };
      const report = renderReport({
        title: `${name} ${version}`,
        model: req.model,
        version,
        dataset: dataset.name,
        backend,
        data: loaded.description,
        rows,
        loss: losses,
        epochLoss: epochs.map((e) => [e.epoch, e.loss]),
        validNdcg: epochs.filter((e) => e.ndcg10 !== undefined).map((e) => [e.epoch, e.ndcg10!]),
        config: { ...options, ...(encoder ? { architecture: encoder.config } : { params: baselineParams }) },
        timings,
        promotion: { decision: promotion.promote ? 'promoted' : 'not promoted', reason: promotion.reason, ...(warmStart ? { warmStart: warmStart.reason } : {}) },
        notes: neural
          ? [
              `Trained on each user's sequence without its last two items; epoch chosen on validation NDCG@10 (best epoch ${bestEpoch ?? '-'}${stopReason === 'time-budget' ? ', stopped by the time budget' : stoppedEarly ? ', stopped early' : ''}).`,
              'Full ranking over all items with the history excluded is the headline; sampled-100 only compares with older papers.',
            ]
          : ['Validation row: fitted on train; test rows and the artifact: refitted on everything before each test item.'],
      });
      const extraFiles = { 'metrics.json': `${JSON.stringify(summary, null, 2)}\n`, 'report.html': report };
      let location: string;
      if (encoder) {
        location = await saveArtifact(this.store, { manifest, encoder, vocabulary: dataset.itemIds, popularity: Float32Array.from(popularity), contentMap: content?.map ?? null, extraFiles });
      } else if (graphModel) {
        const paramsFile = `${JSON.stringify({ kind: req.model, params: baselineParams }, null, 2)}\n`;
        location = await saveGraphArtifact(this.store, {
          manifest,
          model: graphModel,
          vocabulary: dataset.itemIds,
          popularity: Float32Array.from(popularity),
          extraFiles: { ...extraFiles, 'params.json': paramsFile },
        });
      } else {
        // BPR-MF: per-user factors of training users only, nothing a live window can use: evaluation only.
        location = await this.store.publish(manifest, async (dir) => {
          await writeFile(join(dir, 'vocabulary.json'), JSON.stringify(dataset.itemIds));
          await writeFile(join(dir, 'popularity.json'), JSON.stringify(Array.from(popularity)));
          await writeFile(join(dir, 'params.json'), `${JSON.stringify({ kind: req.model, params: baselineParams }, null, 2)}\n`);
          for (const [f, content] of Object.entries(extraFiles)) await writeFile(join(dir, f), content);
        });
      }
      // again: an operator may have promoted a version while the artifact was written
      promotion = keepOperatorChoice(req.promote ?? 'if-better', promotion, await operatorState(), version);
      if (promotion.promote) {
        try {
          await this.store.promote(name, version);
        } catch (err) {
          // a user deleted while this run trained: the next run forgets them
          if (!(err instanceof TrainedBeforeDeletionError)) throw err;
          promotion = { ...promotion, promote: false, reason: err.message };
        }
      }
      timings.saveSeconds = seconds(s0);
      timings.totalSeconds = seconds(t0);
      log(`${promotion.promote ? 'promoted' : 'not promoted'} ${name}/${version}: ${promotion.reason}`);
      return {
        model: req.model,
        name,
        version,
        location,
        data: loaded.description,
        dataset: { name: dataset.name, users: dataset.sequences.length, items: dataset.numItems, interactions },
        backend,
        backendVersion,
        rows,
        metrics,
        promotion,
        promoted: promotion.promote,
        warmStart,
        epochs,
        bestEpoch,
        stoppedEarly,
        stopReason,
        index,
        contentMap,
        options,
        timings,
        peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
        sourceDetails: loaded.details,
      };
    } finally {
      encoder?.dispose();
    }
  }

  /**
   * The warm-start encoder (null: train from scratch) and what happened. `requested` is the config
   * a from-scratch model would get; a remapped model must have the same architecture.
   */
  private async tryWarmStart(
    name: string,
    kind: TrainableModel,
    current: string | null,
    dataset: SequenceDataset,
    requested: EncoderConfigInput,
  ): Promise<{ encoder: SequenceEncoder | null; outcome: WarmStartOutcome } | null> {
    if (!current) return null;
    const manifest = await this.store.manifest(name, current);
    const prevKind = (manifest.details?.['kind'] as string | undefined) ?? manifest.model;
    if (prevKind !== kind) return { encoder: null, outcome: { used: false, reason: `promoted ${current} is a ${prevKind}, not a ${kind}: trained from scratch` } };
    const art = await loadArtifact(this.store, name, current);
    if (art.kind !== 'encoder') return { encoder: null, outcome: { used: false, reason: `promoted ${current} has no encoder (a ${art.kind} artifact): trained from scratch` } };
    if (sameVocabulary(art.vocabulary, dataset.itemIds)) {
      return { encoder: art.encoder, outcome: { used: true, from: current, reason: `started from ${current} (same ${dataset.numItems}-item vocabulary)` } };
    }
    const scratch = (reason: string) => ({ encoder: null, outcome: { used: false, reason: `vocabulary of ${current} differs and ${reason}: trained from scratch` } });
    try {
      const config = resolveConfig(requested);
      const diffs = architectureDifferences(art.encoder.config, config);
      if (diffs.length > 0) {
        return scratch(`the requested architecture is not its (${diffs.map((d) => `${d.field} ${String(d.from)} → ${String(d.to)}`).join(', ')})`);
      }
      // The artifact's architecture with the new vocabulary; new items keep this seeded initialisation.
      const fresh = createEncoder({ ...art.encoder.config, numItems: dataset.numItems, seed: config.seed });
      try {
        const r = remapItemRows(art.encoder, art.vocabulary, fresh, dataset.itemIds);
        const n = (x: number) => x.toLocaleString('en-US');
        return {
          encoder: fresh,
          outcome: {
            used: true,
            from: current,
            reason: `started from ${current}: ${n(r.carried)} of ${n(dataset.numItems)} items carried over, ${n(r.added)} new, ${n(r.removed)} gone`,
            items: { carried: r.carried, added: r.added, removed: r.removed },
          },
        };
      } catch (e) {
        fresh.dispose();
        if (e instanceof IncompatibleWeightsError) return scratch(`its weights do not fit the new model (${e.message})`);
        throw e;
      }
    } finally {
      art.encoder.dispose();
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A seeded sample of `n` cases (all when n = 0 or n ≥ cases). */
export function sampleCases(cases: readonly EvalCase[], n: number, seed: number): EvalCase[] {
  if (n <= 0 || n >= cases.length) return cases.slice();
  return new Rng(seed + 7).shuffle(cases.slice()).slice(0, n);
}
