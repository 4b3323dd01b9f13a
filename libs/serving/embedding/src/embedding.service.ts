import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { loadArtifact } from '@seqrec/artifacts';
import { EVENT_TYPES, type SubjectKind, type UserDeletionV1, type WindowUpdate } from '@seqrec/contracts';
import { initBackend, type BackendSettings } from '@seqrec/model';
import { assertServable, type ModelStore } from '@seqrec/model-store';
import { ITEM_DICTIONARY, SEQUENCE_STORE } from '@seqrec/nest-platform';
import { ItemIdCache, decodeWindow, decodeWindowUpdates, sessionsOf, type ItemDictionary, type SequenceStore, type WindowUpdateMessage } from '@seqrec/window';
import { EMBEDDING_METRICS, EMBEDDING_MODEL_STORE, EMBEDDING_OPTIONS, USER_VECTORS } from './embedding.constants';
import type { EmbeddingMetrics } from './embedding.metrics';
import { EmbeddingModel } from './embedding-model';
import type { UserVector, UserVectorStore } from './user-vectors';
import { SeqrecError } from '@seqrec/contracts';

export interface EmbeddingOptions {
  modelName: string;
  maxBatch: number;
  sessionGapMs: number;
  /** The model runtime's settings (default: the process environment's). */
  backend?: BackendSettings;
}

export class NoEmbeddingModelError extends SeqrecError {
  constructor(model: string) {
    super(`no version of ${model} is loaded yet`, { retriable: true, context: { model } });
    this.name = 'NoEmbeddingModelError';
  }
}

export interface UserFeatures {
  /** The user, or for an anonymous session's features `sessionId` instead. */
  userId?: string;
  sessionId?: string;
  events: number;
  /** Events per type (`view`, `click`, ...), all types listed. */
  counts: Record<string, number>;
  lastEventTs: number | null;
  /** ms since the newest event, null without events. */
  recencyMs: number | null;
  sessions: number;
  distinctItems: number;
  /** Training-data popularity of the user's items under the current model (unknown items count 0). */
  itemPopularity: { mean: number; max: number; unknownItems: number } | null;
}

/**
 * Encodes users' updated windows with the current model in batches and stores their vectors;
 * serves item vectors, similar items, user vectors and window features.
 */
@Injectable()
export class EmbeddingService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Embedding');
  private current: EmbeddingModel | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  backend = 'none';

  constructor(
    @Inject(EMBEDDING_MODEL_STORE) private readonly store: ModelStore,
    @Inject(USER_VECTORS) readonly vectors: UserVectorStore,
    @Inject(SEQUENCE_STORE) private readonly windows: SequenceStore,
    @Inject(ITEM_DICTIONARY) private readonly items: ItemDictionary,
    @Inject(EMBEDDING_OPTIONS) readonly options: EmbeddingOptions,
    @Inject(EMBEDDING_METRICS) private readonly metrics: EmbeddingMetrics,
  ) {
    this.itemIds = new ItemIdCache(items);
  }

  /** Item ids of the window updates' dictionary indices (an index keeps its id forever). */
  private readonly itemIds: ItemIdCache;

  get model(): EmbeddingModel | null {
    return this.current;
  }

  async onModuleInit(): Promise<void> {
    this.backend = (await initBackend(undefined, this.options.backend)).name;
    const version = await this.store.current(this.options.modelName).catch(() => null);
    if (version) await this.load(version).catch((err: Error) => this.log.error(`loading ${this.options.modelName}@${version}: ${err.message}`));
    else this.log.warn(`no promoted version of ${this.options.modelName} yet: windows are not encoded until one is announced`);
  }

  onApplicationShutdown(): void {
    this.current?.retire();
    this.current = null;
  }

  /** Loads a version (serialised) and switches to it; the old one is released when unused. */
  load(version: string): Promise<EmbeddingModel> {
    const next = this.chain.then(async () => {
      if (this.current?.version === version) return this.current;
      // a version trained before a user deletion may hold the user: never loaded (docs/privacy.md)
      await assertServable(this.store, this.options.modelName, version);
      const m = new EmbeddingModel(await loadArtifact(this.store, this.options.modelName, version));
      const old = this.current;
      this.current = m;
      if (old) {
        this.metrics.modelInfo.remove({ model: old.name, version: old.version, backend: this.backend });
        old.retire();
      }
      this.metrics.modelInfo.set({ model: m.name, version: m.version, backend: this.backend }, 1);
      this.log.log(m.graph ? `${m.name}@${m.version} is a graph model (${m.graph.model.rule.kind}): no user vectors to encode; items' neighbours serve similar items` : `encoding with ${m.name}@${m.version}`);
      return m;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  acquire(): EmbeddingModel {
    if (!this.current) throw new NoEmbeddingModelError(this.options.modelName);
    return this.current.acquire();
  }

  /** Encodes the newest window of each user in `updates` and stores the vectors. */
  /** Window-update messages (the window codec's bytes) decoded into updates with item ids. */
  decodeUpdates(messages: WindowUpdateMessage[]): Promise<{ updates: WindowUpdate[]; bad: number }> {
    return decodeWindowUpdates(messages, this.itemIds, this.options.sessionGapMs);
  }

  async encodeUpdates(updates: WindowUpdate[]): Promise<{ stored: number; skipped: number }> {
    const newest = new Map<string, WindowUpdate>();
    for (const u of updates) {
      const seen = newest.get(u.userId);
      if (!seen || u.lastTs >= seen.lastTs) newest.set(u.userId, u);
    }
    await this.dropDeleted(newest);
    if (!this.current) {
      this.metrics.vectors.inc({ outcome: 'no_model' }, newest.size);
      return { stored: 0, skipped: newest.size };
    }
    if (this.current.graph) {
      // A graph model (item-KNN, co-occurrence, popularity) has no user vectors: the scorer scores live windows.
      this.metrics.vectors.inc({ outcome: 'graph_model' }, newest.size);
      return { stored: 0, skipped: newest.size };
    }
    const model = this.acquire();
    let stored = 0;
    let skipped = 0;
    try {
      const all = [...newest.values()];
      for (let i = 0; i < all.length; i += this.options.maxBatch) {
        const end = this.metrics.encodeDuration.startTimer();
        const chunk = all.slice(i, i + this.options.maxBatch);
        const users: WindowUpdate[] = [];
        const histories: Int32Array[] = [];
        const types: Uint8Array[] = [];
        const empty: string[] = [];
        for (const u of chunk) {
          const ids: number[] = [];
          const ty: number[] = [];
          u.items.forEach((it, q) => {
            const ix = it ? model.indexOf(it) : 0;
            if (ix > 0) {
              ids.push(ix);
              ty.push(u.types[q] ?? 0);
            }
          });
          if (ids.length === 0) {
            empty.push(u.userId);
            continue;
          }
          users.push(u);
          histories.push(Int32Array.from(ids));
          types.push(Uint8Array.from(ty));
        }
        const vecs = histories.length ? await model.encode(histories, types) : [];
        await this.vectors.putMany(users.map((u, k) => ({ userId: u.userId, vector: { version: model.version, lastTs: u.lastTs, events: u.items.length, vector: vecs[k]! } })));
        // A vector of an older model or window would pass for current: remove it. And a user deleted
        // while this batch was encoded: the erasure deleted the vector before this write, or
        // deletes it after; the markers read again now catch the writes in between.
        const late = new Map(users.map((u) => [u.userId, u]));
        await this.dropDeleted(late);
        await this.vectors.deleteMany([...empty, ...users.map((u) => u.userId).filter((u) => !late.has(u))]);
        const now = Date.now();
        for (const u of users) this.metrics.lag.observe(Math.max(0, now - u.updatedAt) / 1000);
        this.metrics.batchSize.observe(chunk.length);
        end();
        stored += late.size;
        skipped += empty.length;
      }
    } finally {
      model.release();
    }
    if (stored) this.metrics.vectors.inc({ outcome: 'stored' }, stored);
    if (skipped) this.metrics.vectors.inc({ outcome: 'skipped' }, skipped);
    return { stored, skipped };
  }

  /**
   * Drops the updates of users deleted after the window was written (an update in flight when the
   * user was deleted must not recreate the vector) and of users who object to profiling.
   */
  private async dropDeleted(newest: Map<string, WindowUpdate>): Promise<void> {
    if (newest.size === 0) return;
    const users = [...newest.keys()];
    const markers = await this.windows.markers(users);
    let dropped = 0;
    users.forEach((u, i) => {
      const m = markers[i];
      if (m && (m.objection || newest.get(u)!.updatedAt <= m.at || (newest.get(u)!.ts[0] ?? Infinity) <= m.at)) {
        newest.delete(u);
        dropped++;
      }
    });
    if (dropped) this.metrics.vectors.inc({ outcome: 'deleted' }, dropped);
  }

  /**
   * Applies a deletion record (the deletions topic) to the user vectors: deletes the user's vector
   * when it encodes a window of events stamped at or before the deletion, or the user objects.
   * Replay-safe: a returning user's newer vector is kept. True when a vector was deleted.
   */
  async forget(d: UserDeletionV1): Promise<boolean> {
    const v = await this.vectors.get(d.userId);
    if (!v || !(d.objection || v.lastTs <= d.at)) return false;
    await this.vectors.deleteMany([d.userId]);
    return true;
  }

  async userVector(userId: string): Promise<(UserVector & { current: boolean | null }) | null> {
    const v = await this.vectors.get(userId);
    if (!v) return null;
    const [buf] = await this.windows.getMany([userId]);
    const ev = buf ? decodeWindow(buf).events : [];
    // The window keeps whole seconds; the update's lastTs too (it is computed from the window).
    const newest = ev.length ? ev[ev.length - 1]!.ts : null;
    return { ...v, current: this.current ? v.version === this.current.version && newest === v.lastTs && Math.min(255, ev.length) === v.events : null };
  }

  /** Features of a user's (or an anonymous session's) live window. */
  async features(id: string, kind: SubjectKind = 'user'): Promise<UserFeatures> {
    const [buf] = await this.windows.getMany([id], kind);
    const ev = buf ? decodeWindow(buf).events : [];
    const counts = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<string, number>;
    for (const e of ev) counts[EVENT_TYPES[e.type] ?? `type${e.type}`] = (counts[EVENT_TYPES[e.type] ?? `type${e.type}`] ?? 0) + 1;
    const last = ev.length ? ev[ev.length - 1]!.ts : null;
    const sessions = ev.length ? sessionsOf(ev, this.options.sessionGapMs)[ev.length - 1]! + 1 : 0;
    const storeItems = [...new Set(ev.filter((e) => e.item >= 0).map((e) => e.item))];
    let itemPopularity: UserFeatures['itemPopularity'] = null;
    const model = this.current?.acquire();
    if (model) {
      try {
        const ids = await this.items.idsOf(storeItems);
        let sum = 0;
        let max = 0;
        let unknown = 0;
        for (const id of ids) {
          const ix = id === undefined ? 0 : model.indexOf(id);
          if (ix === 0) unknown++;
          const p = ix ? model.artifact.popularity[ix]! : 0;
          sum += p;
          max = Math.max(max, p);
        }
        itemPopularity = { mean: ids.length ? sum / ids.length : 0, max, unknownItems: unknown };
      } finally {
        model.release();
      }
    }
    return {
      ...(kind === 'user' ? { userId: id } : { sessionId: id }),
      events: ev.length,
      counts,
      lastEventTs: last,
      recencyMs: last === null ? null : Math.max(0, Date.now() - last),
      sessions,
      distinctItems: storeItems.length,
      itemPopularity,
    };
  }
}
