/**
 * Versioned model artifacts. Layout of the filesystem store (`MODEL_STORE_DIR`):
 *
 *   <root>/<model>/<version>/            one immutable artifact folder
 *       artifact.json                    {@link ArtifactManifest}: what, from which data, how good
 *       model.json, weights.bin, config.json   the TF.js model (neural models), or
 *       model.bin / *.json               whatever the model family writes (baselines)
 *       vocabulary.json                  item ids by model index (index 0: padding)
 *       metrics.json, report.html        evaluation results and the training report
 *   <root>/<model>/CURRENT               the promoted version (one line)
 *   <root>/<model>/PINNED                {@link PromotionPin}: the version an operator promoted by hand
 *   <root>/DELETIONS                     the time of the latest user deletion (epoch ms, one line)
 *
 * Artifacts are written into a hidden temporary folder and renamed into place, so readers never
 * see half an artifact; promotion rewrites CURRENT atomically. A pin holds only while it names
 * the CURRENT version, so a promotion interrupted between the two files never pins another version. The interface is what an object-store
 * implementation (S3, GCS) has to provide.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ArtifactManifest {
  /** Model family: `sasrec`, `gru4rec`, `lstm`, `item2vec`, `pop`, `itemknn`, `bpr-mf`, ... */
  model: string;
  /** Sortable version id, e.g. `20261122T101500Z-3f2a`. */
  version: string;
  createdAt: string;
  /**
   * When the training data was read (ISO-8601): a user deleted after it may be in the data, so the
   * version can be neither promoted nor loaded once such a deletion is recorded (docs/privacy.md).
   * Absent (older artifacts): `createdAt` stands for it.
   */
  dataAt?: string;
  /** Where the training data came from (`kafka:<topic>`, a dataset path). */
  data: string;
  /** Validation (and test) metrics by name. */
  metrics: Record<string, number>;
  /** TF.js backend it was trained on (`tensorflow`, `wasm`, `cpu`, or `none`). */
  backend: string;
  /** The version it was warm-started from, if any. */
  parent?: string;
  /** Anything else worth keeping (hyper-parameters, epochs, timings). */
  details?: Record<string, unknown>;
  /** Neural models: one point per trained epoch, in order (absent for baselines and older artifacts). */
  trainingCurve?: TrainingCurvePoint[];
}

/** One epoch of a training run, as the console draws it. */
export interface TrainingCurvePoint {
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Validation NDCG@10 (full ranking) after the epoch, when it was validated. */
  validNdcg10?: number;
  /** Training time of the epoch, seconds (validation excluded). */
  seconds: number;
}

/** A version as {@link describeModels} lists it. */
export interface ModelVersionSummary {
  version: string;
  createdAt: string;
  backend: string;
  data: string;
  parent: string | null;
  /** The store's promoted version of its model. */
  current: boolean;
  /** When its training data was read (ISO-8601; `createdAt` for older artifacts). */
  dataAt: string;
  /** False when it was trained before the latest user deletion: it can be neither promoted nor served. */
  promotable: boolean;
  metrics: Record<string, number>;
  trainingCurve: TrainingCurvePoint[] | null;
}

export interface ModelSummary {
  model: string;
  current: string | null;
  /** The promoted version was chosen by an operator (a rollback): training runs do not replace it. */
  pinned: PromotionPin | null;
  /** Oldest first. */
  versions: ModelVersionSummary[];
}

/**
 * An operator's promotion (a rollback, or any version promoted through the API): while it holds,
 * training runs that promote `if-better` keep the pinned version (docs/operations.md, "Rolling
 * back a model"). It holds while CURRENT names `version`.
 */
export interface PromotionPin {
  version: string;
  /** When it was pinned (ISO-8601). */
  at: string;
}

export interface PromoteOptions {
  /** Pin the version (an operator's choice); without it, an existing pin is released. Default false. */
  pin?: boolean;
}

export interface ModelStore {
  /** Writes a new artifact: `fill` gets a folder to write into; the manifest is written last. */
  publish(manifest: ArtifactManifest, fill: (dir: string) => Promise<void>): Promise<string>;
  /** The folder (or URI) of an artifact. */
  location(model: string, version: string): string;
  manifest(model: string, version: string): Promise<ArtifactManifest>;
  /** Versions of a model, oldest first. */
  versions(model: string): Promise<string[]>;
  current(model: string): Promise<string | null>;
  /**
   * Makes a version the promoted one, pinned or not ({@link PromoteOptions}); {@link TrainedBeforeDeletionError}
   * for a version trained before the latest user deletion, {@link UnknownVersionError} for one the store does not hold.
   */
  promote(model: string, version: string, options?: PromoteOptions): Promise<void>;
  /** The pin on the promoted version, if an operator chose it (null: none, or it no longer names CURRENT). */
  pinned(model: string): Promise<PromotionPin | null>;
  /** Records a user deletion (or objection) at `at` (epoch ms); the store keeps the latest. */
  recordDeletion(at: number): Promise<void>;
  /** The latest recorded user deletion, epoch ms (null: none). */
  latestDeletion(): Promise<number | null>;
}

/** When a version's training data was read, epoch ms. */
export function dataTime(m: Pick<ArtifactManifest, 'createdAt' | 'dataAt'>): number {
  return Date.parse(m.dataAt ?? m.createdAt);
}

/** Whether a version may be promoted or served: its data was read after the latest user deletion. */
export function trainedAfter(m: Pick<ArtifactManifest, 'createdAt' | 'dataAt'>, latestDeletion: number | null): boolean {
  return latestDeletion === null || dataTime(m) > latestDeletion;
}

/**
 * Refused: promoting (or rolling back to, or loading) a version whose training data was read before
 * a user deletion: the deleted user's events may be in it. Expected, not a fault: retrain.
 */
export class TrainedBeforeDeletionError extends Error {
  constructor(
    readonly model: string,
    readonly version: string,
    readonly dataAt: number,
    readonly deletedAt: number,
  ) {
    super(`${model}/${version} was trained on data read at ${new Date(dataAt).toISOString()}, before the user deletion of ${new Date(deletedAt).toISOString()}: retrain instead`);
    this.name = 'TrainedBeforeDeletionError';
  }
}

/** The store holds no such version (or the name cannot be one). Expected: the API answers 404. */
export class UnknownVersionError extends Error {
  constructor(
    readonly model: string,
    readonly version: string,
  ) {
    super(`the model store has no version ${version} of ${model}`);
    this.name = 'UnknownVersionError';
  }
}

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class FsModelStore implements ModelStore {
  constructor(readonly root: string) {}

  location(model: string, version: string): string {
    check(model, 'model');
    check(version, 'version');
    return join(this.root, model, version);
  }

  async publish(manifest: ArtifactManifest, fill: (dir: string) => Promise<void>): Promise<string> {
    const final = this.location(manifest.model, manifest.version);
    const tmp = join(this.root, manifest.model, `.${manifest.version}.tmp-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    try {
      await fill(tmp);
      await writeFile(join(tmp, 'artifact.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    return final;
  }

  async manifest(model: string, version: string): Promise<ArtifactManifest> {
    return JSON.parse(await readFile(join(this.location(model, version), 'artifact.json'), 'utf8')) as ArtifactManifest;
  }

  async versions(model: string): Promise<string[]> {
    check(model, 'model');
    try {
      const entries = await readdir(join(this.root, model), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Names of the models with a folder in the store, sorted. */
  async models(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && SAFE.test(e.name)).map((e) => e.name).sort();
  }

  async current(model: string): Promise<string | null> {
    check(model, 'model');
    try {
      const v = (await readFile(join(this.root, model, 'CURRENT'), 'utf8')).trim();
      return v || null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async promote(model: string, version: string, options: PromoteOptions = {}): Promise<void> {
    if (!SAFE.test(version)) throw new UnknownVersionError(model, version);
    const m = await this.manifest(model, version).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new UnknownVersionError(model, version) : err;
    });
    const deletedAt = await this.latestDeletion();
    if (!trainedAfter(m, deletedAt)) throw new TrainedBeforeDeletionError(model, version, dataTime(m), deletedAt!);
    const pinFile = join(this.root, model, 'PINNED');
    // pin first: until CURRENT names the version the pin holds nothing, so a crash in between pins nothing
    if (options.pin) await writeAtomically(pinFile, `${JSON.stringify({ version, at: new Date().toISOString() } satisfies PromotionPin)}\n`);
    await writeAtomically(join(this.root, model, 'CURRENT'), `${version}\n`);
    if (!options.pin) await rm(pinFile, { force: true });
  }

  async pinned(model: string): Promise<PromotionPin | null> {
    check(model, 'model');
    let pin: PromotionPin;
    try {
      pin = JSON.parse(await readFile(join(this.root, model, 'PINNED'), 'utf8')) as PromotionPin;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return typeof pin?.version === 'string' && pin.version === (await this.current(model)) ? { version: pin.version, at: String(pin.at) } : null;
  }

  async recordDeletion(at: number): Promise<void> {
    if (!Number.isFinite(at)) throw new RangeError(`deletion time must be a number of ms, got ${at}`);
    const latest = await this.latestDeletion();
    if (latest !== null && latest >= at) return;
    await mkdir(this.root, { recursive: true });
    const file = join(this.root, 'DELETIONS');
    const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
    await writeFile(tmp, `${Math.floor(at)}\n`);
    await rename(tmp, file);
  }

  async latestDeletion(): Promise<number | null> {
    try {
      const v = Number((await readFile(join(this.root, 'DELETIONS'), 'utf8')).trim());
      return Number.isFinite(v) ? v : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
}

/**
 * Throws {@link TrainedBeforeDeletionError} when a version may not be served: its data was read
 * before the latest user deletion recorded in the store. Model loaders call it before loading.
 */
export async function assertServable(store: ModelStore, model: string, version: string): Promise<void> {
  const [m, deletedAt] = await Promise.all([store.manifest(model, version), store.latestDeletion()]);
  if (!trainedAfter(m, deletedAt)) throw new TrainedBeforeDeletionError(model, version, dataTime(m), deletedAt!);
}

/**
 * Every model of `names` (plus, for a filesystem store, every model folder in it) that has versions:
 * its versions oldest first with their metrics and training curves, and the promoted one. A version
 * whose manifest cannot be read (being written, or damaged) is left out.
 */
export async function describeModels(store: ModelStore, names: Iterable<string> = []): Promise<ModelSummary[]> {
  const all = new Set(names);
  if (store instanceof FsModelStore) for (const m of await store.models()) all.add(m);
  const out: ModelSummary[] = [];
  for (const model of [...all].sort()) {
    const versions = await store.versions(model);
    if (versions.length === 0) continue;
    const [current, pinned, deletedAt] = await Promise.all([store.current(model), store.pinned(model), store.latestDeletion()]);
    const list: ModelVersionSummary[] = [];
    for (const version of versions) {
      const m = await store.manifest(model, version).catch(() => null);
      if (!m) continue;
      list.push({
        version,
        createdAt: m.createdAt,
        backend: m.backend,
        data: m.data,
        parent: m.parent ?? null,
        current: version === current,
        dataAt: new Date(dataTime(m)).toISOString(),
        promotable: trainedAfter(m, deletedAt),
        metrics: m.metrics,
        trainingCurve: m.trainingCurve ?? null,
      });
    }
    out.push({ model, current, pinned, versions: list });
  }
  return out;
}

/** A sortable, unique version id: UTC time to the second plus a random suffix. */
export function newVersion(now: Date = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${t}-${Math.random().toString(16).slice(2, 6)}`;
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

function check(value: string, what: string): void {
  if (!SAFE.test(value)) throw new RangeError(`${what} "${value}" must match ${SAFE}`);
}
