import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { loadArtifact } from '@seqrec/artifacts';
import { initBackend, type BackendInfo } from '@seqrec/model';
import { TrainedBeforeDeletionError, assertServable, type ModelStore } from '@seqrec/model-store';
import { MODEL_STORE, SCORING_METRICS, SCORING_OPTIONS } from './scoring.constants';
import type { ScoringMetrics } from './scoring.metrics';
import { resolveIndexLists } from './scoring.env';
import type { ScoringOptions } from './scoring.service';
import { ModelSlot, ServingModel } from './serving-model';

/**
 * Keeps the {@link ModelSlot} on the promoted version: loads CURRENT at start, then each version
 * announced on the models topic (or seen on the CURRENT pointer by the optional poll). A new
 * version is loaded and warmed up before the swap, so no request waits for it or fails.
 */
@Injectable()
export class ModelLoader implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('ModelLoader');
  private chain: Promise<unknown> = Promise.resolve();
  private poll: NodeJS.Timeout | null = null;
  private backendInfo: BackendInfo | null = null;

  constructor(
    readonly slot: ModelSlot,
    @Inject(MODEL_STORE) private readonly store: ModelStore,
    @Inject(SCORING_OPTIONS) private readonly options: ScoringOptions,
    @Inject(SCORING_METRICS) private readonly metrics: ScoringMetrics,
  ) {}

  get backend(): string {
    return this.backendInfo?.name ?? 'none';
  }

  async onModuleInit(): Promise<void> {
    this.backendInfo = await initBackend(undefined, this.options.backend);
    this.log.log(`TF.js backend: ${this.backendInfo.name} (${this.backendInfo.version})`);
    await this.loadCurrent().catch((err: Error) => this.log.error(`loading the current ${this.options.modelName}: ${err.message}`));
    if (this.options.pollSeconds > 0) {
      this.poll = setInterval(() => {
        this.loadCurrent().catch((err: Error) => this.log.warn(`model poll: ${err.message}`));
      }, this.options.pollSeconds * 1000);
      this.poll.unref();
    }
  }

  onApplicationShutdown(): void {
    if (this.poll) clearInterval(this.poll);
    this.slot.close();
  }

  /** Loads the store's CURRENT version when it is not the served one. */
  async loadCurrent(): Promise<ServingModel | null> {
    const version = await this.store.current(this.options.modelName);
    if (!version) {
      if (!this.slot.model) this.log.warn(`no promoted version of ${this.options.modelName} in the model store yet`);
      return this.slot.model;
    }
    return this.load(version);
  }

  /** Loads a version (serialised with other loads) and swaps it in; a no-op when already served. */
  load(version: string): Promise<ServingModel | null> {
    const next = this.chain.then(() => this.doLoad(version));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async doLoad(version: string): Promise<ServingModel | null> {
    const name = this.options.modelName;
    if (this.slot.model?.version === version) {
      this.metrics.modelSwaps.inc({ outcome: 'unchanged' });
      return this.slot.model;
    }
    const started = Date.now();
    const model = await this.prepare(name, version);
    const old = this.slot.swap(model);
    if (old) {
      this.metrics.modelInfo.remove({ model: old.name, version: old.version, backend: this.backend });
      this.metrics.indexRecall.remove({ model: old.name, version: old.version });
      this.metrics.indexInUse.remove({ model: old.name, version: old.version });
    }
    this.metrics.modelInfo.set({ model: name, version, backend: this.backend }, 1);
    this.metrics.modelSwaps.inc({ outcome: 'loaded' });
    this.log.log(
      `serving ${name}@${version} (${model.artifact.vocabulary.length - 1} items, loaded in ${Date.now() - started} ms)` +
        (old ? `; ${old.version} retires after its ${old.inUse} in-flight requests` : ''),
    );
    return model;
  }

  /**
   * A stored version, ready to serve: refused when trained before a user deletion, loaded, warmed
   * up (serving tensors built, kernels compiled) and indexed, so no request waits for any of it.
   * Also used for the models of an experiment's variants and its shadow.
   */
  async prepare(name: string, version: string): Promise<ServingModel> {
    let artifact;
    try {
      // a version trained before a user deletion may hold the user: never served (docs/privacy.md)
      await assertServable(this.store, name, version);
      artifact = await loadArtifact(this.store, name, version);
    } catch (err) {
      this.metrics.modelSwaps.inc({ outcome: err instanceof TrainedBeforeDeletionError ? 'refused' : 'failed' });
      throw err;
    }
    const model = new ServingModel(artifact, (m) => this.log.log(`released ${m.name}@${m.version}`));
    if (artifact.kind === 'graph') {
      // A graph model needs no tensors: one request's worth of work compiles its path.
      const warm = Int32Array.of(artifact.popularOrder[0] ?? 1);
      artifact.graph.topK(warm, 1);
      artifact.graph.score(warm, warm);
      this.log.log(`${name}@${version} is a graph model (${artifact.graph.model.rule.kind}, ${artifact.graph.edges} edges): scored from its item graph`);
    } else {
      // Warm-up: builds the serving tensors (transposed item table) and compiles the kernels.
      const encoder = artifact.encoder;
      const warm = Int32Array.of(artifact.popularOrder[0] ?? 1);
      const types = encoder.config.numTypes > 0 ? { types: [new Uint8Array(1)] } : {};
      await encoder.topK([warm], 1, types);
      await encoder.scoreItems([warm], [warm], encoder.config.numTypes > 0 ? [new Uint8Array(1)] : undefined);
      model.inlineEncoder?.encode(warm, encoder.config.numTypes > 0 ? new Uint8Array(1) : undefined);
      if (model.acceptsUserVectors) {
        // The int8 table (~0.1 s for 50,000 items) is built here, not by the first request.
        model.warmVectors(this.options.exactTopK !== 'matmul');
        await model.topKVectors([new Float32Array(encoder.config.dim)], 1, [new Int32Array(0)]);
      }
    }
    const lists = resolveIndexLists(this.options.indexLists, model.artifact.vocabulary.length - 1);
    if (lists > 0 && model.acceptsUserVectors) {
      const probes = Math.min(this.options.indexProbes, lists);
      const built = await model.buildIndex({ lists, probes }, this.options.indexMinRecall);
      const measured = `recall@20 vs exact ${built.recallAt20.toFixed(4)} on 200 sampled users; built in ${built.seconds.toFixed(1)} s`;
      if (built.used) {
        const sizes = model.index!.listSizes;
        this.log.log(`approximate top-k for ${name}@${version}: ${lists} lists (${sizes.min}–${sizes.max} items), ${probes} probed; ${measured}`);
      } else {
        this.log.warn(
          `approximate top-k for ${name}@${version} not used: ${measured}, below SCORER_INDEX_MIN_RECALL ${this.options.indexMinRecall} (${lists} lists, ${probes} probed): exact top-k serves it (raise SCORER_INDEX_PROBES)`,
        );
      }
      this.metrics.indexRecall.set({ model: name, version }, built.recallAt20);
      this.metrics.indexInUse.set({ model: name, version }, built.used ? 1 : 0);
    }
    return model;
  }
}
