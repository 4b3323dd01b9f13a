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
 *
 * Artifacts are written into a hidden temporary folder and renamed into place, so readers never
 * see half an artifact; promotion rewrites CURRENT atomically. The interface is what an object-store
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
  promote(model: string, version: string): Promise<void>;
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

  async promote(model: string, version: string): Promise<void> {
    await this.manifest(model, version); // must exist
    const file = join(this.root, model, 'CURRENT');
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, `${version}\n`);
    await rename(tmp, file);
  }
}

/** A sortable, unique version id: UTC time to the second plus a random suffix. */
export function newVersion(now: Date = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${t}-${Math.random().toString(16).slice(2, 6)}`;
}

function check(value: string, what: string): void {
  if (!SAFE.test(value)) throw new RangeError(`${what} "${value}" must match ${SAFE}`);
}
