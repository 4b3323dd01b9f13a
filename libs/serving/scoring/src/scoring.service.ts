import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_TYPES, type EventSubject, type ImpressionV1, type RedisKeys } from '@seqrec/contracts';
import type { Explanation, FallbackReason, ModelRef, RankAnswer, RankedItem, RankRequest, RecommendationsAnswer, ScoredItem, SequenceFreshness, SimilarAnswer } from './scoring.api';
import type { BackendSettings } from '@seqrec/model';
import { ITEM_DICTIONARY, REDIS, REDIS_KEYS, SEQUENCE_STORE } from '@seqrec/nest-platform';
import { getBuffers, type RedisClient } from '@seqrec/redis';
import { CodecError, decodeWindow, type ItemDictionary, type SequenceStore, type SequenceWindow } from '@seqrec/window';
import { MicroBatcher } from './micro-batcher';
import { rankSubject, readSubjectWindows, subjectField } from './subjects';
import { PopularityFallback } from './popularity-fallback';
import { SCORING_METRICS, SCORING_OPTIONS } from './scoring.constants';
import type { ScoringMetrics } from './scoring.metrics';
import { ModelSlot, type ModelHistory, type ServingModel } from './serving-model';
import { decodeUserVector, type UserVector } from '@seqrec/window';
import { selectTopK, selectTopKAsync, type ItemRules, type Ranked } from '@seqrec/model';
import { CatalogueView } from './catalogue-view';
import { mergeRanked } from './content-items';
import { interactedItems } from './interacted';
import { resolveRules, type RuleDefaults, type RulesInput } from './rules';
import { blendScores, relevanceFromPositions } from './search-blend';
import { explainByOcclusion, reasonText, type WindowScorer } from '@seqrec/artifacts';
import { ExperimentsService, newRequestId, type Route } from './experiments/experiments.service';

export interface ScoringOptions {
  modelName: string;
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Longest a request waits for its pass before it is shed (0: no limit). */
  maxQueueWaitMs: number;
  maxCandidates: number;
  maxK: number;
  maxBatchUsers: number;
  /** The deployment's business rules (SCORER_RULES_*), which a request's own replace field by field. */
  rules: RuleDefaults;
  /** Share of the personal score when a rank request carries a search engine's scores (SCORER_SEARCH_BLEND_WEIGHT). */
  searchBlendWeight: number;
  pollSeconds: number;
  /** Reuse the live trending list for this long, ms (SCORER_TRENDING_CACHE_MS). */
  trendingCacheMs: number;
  /** Use the embedding service's stored user vector when it is current for the live window. */
  useStoredVectors: boolean;
  /**
   * Exact top-k for a user vector (stored or encoded inline) when there is no approximate index:
   * `int8`, an int8 scan with full-precision rescoring per request (ExactTopK) on the event loop;
   * `matmul`, the throughput mode: one micro-batched TF matMul + topk over every item, on TF's threads.
   */
  exactTopK: 'int8' | 'matmul';
  /** Approximate top-k: IVF lists (0 = exact top-k over every item; auto: by the model's size, resolveIndexLists) and lists probed per query. */
  indexLists: number | 'auto';
  indexProbes: number;
  /** The index serves a version only when its recall@20 measured at load reaches this; else exact top-k. */
  indexMinRecall: number;
  /** Read the active experiment from the experiment store this often, ms (SCORER_EXPERIMENT_POLL_MS; 0: only at start and on this replica's API calls). */
  experimentPollMs: number;
  /** Run the feedback join and shadow scoring here (SCORER_FEEDBACK_JOIN): consume impressions and events, load the shadow model. */
  feedbackJoin: boolean;
  /** Most of each second the shadow model may take on the event loop, 0..1 (SCORER_SHADOW_MAX_LOAD). */
  shadowMaxLoad: number;
  /** Shed API requests with 503 while the event loop's p99 delay is above this (0: off). */
  maxEventLoopDelayMs: number;
  /** The model runtime's settings (default: the process environment's). */
  backend?: BackendSettings;
}


import { NoModelError } from './no-model';
export { NoModelError };

export type { FallbackReason, ModelRef, RankAnswer, RankedItem, RankRequest, RecommendationsAnswer, ScoredItem, SequenceFreshness, SimilarAnswer } from './scoring.api';

/**
 * Scoring from the live window: reads the user's window from the state store (so the newest
 * applied click counts), maps it to the served model's indices and hands it to the micro-batcher.
 * Users with no usable history get the model's popularity ranking, flagged `fallback`.
 */
@Injectable()
export class ScoringService implements OnApplicationShutdown {
  readonly batcher: MicroBatcher;

  constructor(
    private readonly slot: ModelSlot,
    @Inject(SEQUENCE_STORE) private readonly store: SequenceStore,
    @Inject(ITEM_DICTIONARY) private readonly items: ItemDictionary,
    @Inject(SCORING_OPTIONS) readonly options: ScoringOptions,
    @Inject(SCORING_METRICS) private readonly metrics: ScoringMetrics,
    @Inject(REDIS) private readonly redis: RedisClient | null,
    @Inject(REDIS_KEYS) private readonly keys: RedisKeys,
    private readonly popularity: PopularityFallback,
    private readonly catalogue: CatalogueView,
    private readonly experiments: ExperimentsService,
  ) {
    this.batcher = new MicroBatcher(
      { maxBatch: options.maxBatch, maxWaitMs: options.maxWaitMs, maxQueue: options.maxQueue, maxQueueWaitMs: options.maxQueueWaitMs },
      {
        onBatch: (kind, size, seconds) => {
          metrics.batchSize.observe({ kind }, size);
          metrics.batchDuration.observe({ kind }, seconds);
        },
        onQueueDepth: (depth) => metrics.queueDepth.set(depth),
      },
    );
  }

  onApplicationShutdown(): void {
    this.batcher.close();
  }

  async recommend(userId: string, k: number, rules?: RulesInput): Promise<RecommendationsAnswer> {
    return (await this.recommendMany([userId], k, rules))[0]!;
  }

  /** Top-k per user: the best k items that pass the rules (the deployment's, replaced field by field by `rules`), found inside the top-k search. */
  async recommendMany(userIds: string[], k: number, rules?: RulesInput, explain = false): Promise<RecommendationsAnswer[]> {
    return this.recommendFor(userIds.map((id) => ({ kind: 'user', id })), k, rules, explain);
  }

  /** Top-k for anonymous sessions, from their live windows (encoded now: sessions have no stored vectors). */
  async recommendSessions(sessionIds: string[], k: number, rules?: RulesInput, explain = false): Promise<RecommendationsAnswer[]> {
    return this.recommendFor(sessionIds.map((id) => ({ kind: 'session', id })), k, rules, explain);
  }

  /**
   * Each subject answered by the model of its route (its experiment variant's, or the served one):
   * subjects are grouped by model, every answer gets a request id, an experiment's answers name
   * their variant and are published as impressions (which the feedback join, and the shadow model,
   * take from the impressions topic: off the request path).
   */
  private async recommendFor(subjects: EventSubject[], k: number, rules?: RulesInput, explain = false): Promise<RecommendationsAnswer[]> {
    const spec = resolveRules(this.options.rules, rules);
    const routes = this.experiments.route(subjects);
    try {
      const answers = await this.byModel(subjects, routes, (model, group) => this.recommendWith(model, group, k, spec, explain));
      return answers.map((a, i) => this.stamp(a, routes[i]!, subjects[i]!, 'recommendations'));
    } finally {
      for (const r of routes) r.model.release();
    }
  }

  /** An answer with its request id and, in an experiment, its variant (then published as an impression). */
  private stamp<A extends { items: Array<{ itemId: string }> }>(a: A, route: Route, subject: EventSubject, kind: 'recommendations' | 'rank'): A & Stamp {
    const requestId = newRequestId();
    if (!route.experiment) return { requestId, ...a };
    this.experiments.impression(subject, kind, requestId, route.experiment, route.model, a.items.map((it) => it.itemId));
    return { requestId, experiment: route.experiment, ...a };
  }

  /** Runs `answer` once per distinct model over its subjects, and puts the answers back in order. */
  private async byModel<S, A>(subjects: readonly S[], routes: readonly Route[], answer: (model: ServingModel, group: S[]) => Promise<A[]>): Promise<A[]> {
    const groups = new Map<ServingModel, number[]>();
    routes.forEach((r, i) => {
      const g = groups.get(r.model);
      if (g) g.push(i);
      else groups.set(r.model, [i]);
    });
    const out = new Array<A>(subjects.length);
    await Promise.all(
      [...groups].map(async ([model, ix]) => {
        const got = await answer(model, ix.map((i) => subjects[i]!));
        ix.forEach((i, j) => (out[i] = got[j]!));
      }),
    );
    return out;
  }

  /**
   * What `model` would have answered to an impression's request (the shadow): the same subject, k
   * and candidates, the deployment's rules, from the window as it was when the answer was served
   * (its events up to the impression's time).
   */
  async shadowAnswer(model: ServingModel, imp: ImpressionV1): Promise<string[]> {
    const subject: EventSubject = imp.userId !== undefined ? { kind: 'user', id: imp.userId } : { kind: 'session', id: imp.sessionId! };
    if (imp.route === 'rank') {
      const [a] = await this.rankWith(model, [{ ...subjectField(subject), items: imp.items, sort: true }], imp.ts);
      return a!.items.map((it) => it.itemId);
    }
    const [a] = await this.recommendWith(model, [subject], imp.items.length, resolveRules(this.options.rules, undefined), false, imp.ts);
    return a!.items.map((it) => it.itemId);
  }

  private async recommendWith(model: ServingModel, subjects: EventSubject[], k: number, spec: ReturnType<typeof resolveRules>, explain: boolean, asOf?: number): Promise<Unstamped<RecommendationsAnswer>[]> {
    const { windows, vectors } = await this.subjectState(subjects, model, asOf);
    return await Promise.all(
      subjects.map(async (subject, i) => {
        const who = subjectField(subject);
        const window = windows[i]!;
        const v = currentVector(vectors?.[i], window, model);
        if (v) {
          const h = await model.history(window, this.items);
          if (h.ids.length > 0) {
            const top = await this.topKFromVector(model, v.vector, k, this.catalogue.compile(model, spec, interactedItems(h, spec.excludeInteracted)));
            const items = this.named(model, top.items, top.scores);
            if (explain) await this.explain(model, h, items.filter((it) => it.source !== 'content'));
            return { ...who, items, model: ref(model), scoredFrom: 'stored_vector' as const, sequence: freshness(window, h) };
          }
        }
        const h = await model.history(window, this.items);
        const sequence = freshness(window, h);
        const itemRules = this.catalogue.compile(model, spec, interactedItems(h, spec.excludeInteracted));
        if (h.ids.length === 0) {
          const reason: FallbackReason = window && window.events.length ? 'no_known_items' : subject.kind === 'user' ? 'unknown_user' : 'unknown_session';
          this.metrics.fallbacks.inc({ route: 'recommendations', reason });
          const pop = await this.popularity.top(model, k, itemRules, spec.categories, this.catalogue.contentItems(model));
          return { ...who, items: pop.items, model: ref(model), scoredFrom: 'popularity' as const, fallback: 'popularity' as const, fallbackReason: reason, popularity: pop.source, sequence };
        }
        // A graph model scores the window directly from its neighbour lists (sparse, in JS, no batch).
        const inline = model.graph ? null : this.inlineVector(model, h);
        const eligible = model.artifact.vocabulary.length - 1;
        const none = new Int32Array(0);
        const graph = model.graph;
        const top = graph
          ? selectTopK(k, itemRules, eligible, (width, accept) => graph.topK(h.ids, width, none, accept))
          : inline
            ? await this.topKFromVector(model, inline, k, itemRules)
            : await selectTopKAsync(k, itemRules, eligible, (width) => this.batcher.submit({ kind: 'topk', model, ids: h.ids, types: h.types, k: width, exclude: none }));
        const items = this.named(model, top.items, top.scores);
        if (explain) await this.explain(model, h, items.filter((it) => it.source !== 'content'));
        return { ...who, items, model: ref(model), scoredFrom: 'live_window' as const, sequence };
      }),
    );
  }

  async rank(req: RankRequest): Promise<RankAnswer> {
    return (await this.rankMany([req]))[0]!;
  }

  async rankMany(reqs: RankRequest[]): Promise<RankAnswer[]> {
    const subjects = reqs.map(rankSubject);
    const routes = this.experiments.route(subjects);
    try {
      const answers = await this.byModel(reqs, routes, (model, group) => this.rankWith(model, group));
      return answers.map((a, i) => this.stamp(a, routes[i]!, subjects[i]!, 'rank'));
    } finally {
      for (const r of routes) r.model.release();
    }
  }

  private async rankWith(model: ServingModel, reqs: RankRequest[], asOf?: number): Promise<Unstamped<RankAnswer>[]> {
    const subjects = reqs.map(rankSubject);
    const { windows, vectors } = await this.subjectState(subjects, model, asOf);
    return await Promise.all(
      reqs.map(async (req, i) => {
        const who = subjectField(subjects[i]!);
        const window = windows[i]!;
        const h = await model.history(window, this.items);
        const sequence = freshness(window, h);
        const candidates = Int32Array.from(req.items, (id) => model.indexOf(id));
        let scores: ArrayLike<number>;
        let scoredFrom: RankAnswer['scoredFrom'] = 'live_window';
        let fallback: Pick<RankAnswer, 'fallback' | 'fallbackReason' | 'popularity'> = {};
        let allScored = false;
        // the user vector, when the path has one: it also scores candidates from their content
        let user: Float32Array | null = null;
        const v = h.ids.length > 0 ? currentVector(vectors?.[i], window, model) : null;
        if (h.ids.length === 0) {
          const reason: FallbackReason = window && window.events.length ? 'no_known_items' : subjects[i]!.kind === 'user' ? 'unknown_user' : 'unknown_session';
          this.metrics.fallbacks.inc({ route: 'rank', reason });
          const pop = await this.popularity.scores(model, req.items, candidates);
          fallback = { fallback: 'popularity', fallbackReason: reason, popularity: pop.source };
          scoredFrom = 'popularity';
          scores = pop.scores;
          // live counts are real scores for items the model does not know too
          allScored = pop.source === 'trending';
        } else if (v) {
          scoredFrom = 'stored_vector';
          user = v.vector;
          scores = model.scoreVector(v.vector, candidates);
        } else if (model.graph) {
          scores = model.graph.score(h.ids, candidates);
        } else {
          const inline = this.inlineVector(model, h);
          user = inline;
          scores = inline ? model.scoreVector(inline, candidates) : await this.batcher.submit({ kind: 'rank', model, ids: h.ids, types: h.types, candidates });
        }
        let items: RankedItem[] = req.items.map((itemId, q) => ({ itemId, score: allScored || candidates[q]! > 0 ? scores[q]! : null }));
        if (user) this.scoreFromContent(model, user, items);
        const engine = req.engineScores ?? (req.enginePositions ? relevanceFromPositions(req.enginePositions) : null);
        if (engine) {
          const blended = blendScores(items.map((it) => it.score), engine, req.blendWeight ?? this.options.searchBlendWeight);
          items.forEach((it, q) => (it.blended = blended[q]!));
          if (req.sort) items.sort((a, b) => b.blended! - a.blended!);
        } else if (req.sort) items.sort((a, b) => (b.score ?? -Infinity) - (a.score ?? -Infinity));
        if (req.rules) items = this.rankRules(model, items, req.rules, h);
        if (req.explain && h.ids.length > 0) await this.explain(model, h, items.filter((it) => it.score !== null && model.indexOf(it.itemId) > 0));
        return { ...who, items, sorted: Boolean(req.sort), model: ref(model), scoredFrom, ...fallback, sequence };
      }),
    );
  }

  /**
   * A re-rank's candidates under the request's rules: the candidates the rules refuse are left
   * out, and with a cap per category the walk down the (sorted or given) order keeps the first N of
   * each. Candidates neither the model nor the content items know cannot be looked up and are kept.
   */
  private rankRules(model: ServingModel, items: RankedItem[], rules: RulesInput, h: ModelHistory): RankedItem[] {
    const spec = resolveRules(this.options.rules, rules);
    const compiled = this.catalogue.compile(model, spec, interactedItems(h, spec.excludeInteracted));
    if (!compiled) return items;
    const content = this.catalogue.contentItems(model);
    const counts = new Map<number, number>();
    return items.filter(({ itemId }) => {
      const ix = model.indexOf(itemId) || (content?.indexOf(itemId) ?? 0);
      if (ix === 0) return true;
      if (compiled.accept && !compiled.accept(ix)) return false;
      if (!compiled.maxPerGroup || !compiled.groupOf) return true;
      const g = compiled.groupOf(ix);
      if (g < 0) return true;
      const c = counts.get(g) ?? 0;
      counts.set(g, c + 1);
      return c < compiled.maxPerGroup;
    });
  }

  async similar(itemId: string, k: number): Promise<SimilarAnswer> {
    return { requestId: newRequestId(), ...(await this.similarItems(itemId, k)) };
  }

  private async similarItems(itemId: string, k: number): Promise<Omit<SimilarAnswer, 'requestId'>> {
    const model = this.acquire();
    try {
      const ix = model.indexOf(itemId);
      const content = model.graph ? null : this.catalogue.contentItems(model);
      const cx = ix === 0 ? (content?.indexOf(itemId) ?? 0) : 0;
      if (ix === 0 && cx === 0) {
        this.metrics.fallbacks.inc({ route: 'similar', reason: 'unknown_item' });
        const pop = model.popular(k);
        return { itemId, items: this.named(model, pop.items, pop.scores), model: ref(model), fallback: 'popularity', fallbackReason: 'unknown_item' };
      }
      if (!content || content.size === 0) {
        const top = await model.similar(ix, k);
        return { itemId, items: this.named(model, top.items, top.scores), model: ref(model) };
      }
      // cosine in the item space, over the model's items and the items scored from content
      const query = cx > 0 ? Float32Array.from(content.vectorOf(cx)) : model.itemVector(ix);
      const known = cx > 0 ? await model.similarTo(query, k) : await model.similar(ix, k);
      const top = mergeRanked(known, content.similarTo(query, k, cx), k);
      return { itemId, items: this.named(model, top.items, top.scores), model: ref(model) };
    } finally {
      model.release();
    }
  }

  /**
   * Top-k for a user vector (stored, or encoded inline): with the approximate index a SIMD scan of
   * tens of microseconds; exact, an int8 SIMD scan with full-precision rescoring (neither waits for
   * a batch); or, with SCORER_EXACT_TOPK=matmul, one batched matMul over every item.
   */
  private async topKFromVector(model: ServingModel, vector: Float32Array, k: number, rules: ItemRules | null): Promise<Ranked> {
    const content = this.catalogue.contentItems(model);
    // Catalogue items the model has not seen compete from their content vectors (a JS scan of the
    // few of them, merged into each search); with none, the search is the model's alone.
    if (content && content.size > 0) {
      const eligible = model.artifact.vocabulary.length - 1 + content.size;
      const withContent =
        <R extends Ranked | Promise<Ranked>>(search: (width: number, accept: ((item: number) => boolean) | undefined) => R) =>
        (width: number, accept: ((item: number) => boolean) | undefined) => {
          const fromContent = content.topK(vector, width, accept);
          const known = search(width, accept);
          return (known instanceof Promise ? known.then((r) => mergeRanked(r, fromContent, width)) : mergeRanked(known, fromContent, width)) as R;
        };
      return this.topKFromVectorOver(model, vector, k, rules, eligible, withContent);
    }
    return this.topKFromVectorOver(model, vector, k, rules, model.artifact.vocabulary.length - 1, (search) => search);
  }

  private async topKFromVectorOver(
    model: ServingModel,
    vector: Float32Array,
    k: number,
    rules: ItemRules | null,
    eligible: number,
    wrap: <R extends Ranked | Promise<Ranked>>(search: (width: number, accept: ((item: number) => boolean) | undefined) => R) => (width: number, accept: ((item: number) => boolean) | undefined) => R,
  ): Promise<Ranked> {
    const none = new Int32Array(0);
    if (model.index) {
      const approx = selectTopK(k, rules, eligible, wrap((width, accept) => model.topKIndexed([vector], width, [none], accept)[0]!));
      // The probed lists may hold fewer than k items that pass the rules: then the exact scan answers.
      if (approx.items.length >= Math.min(k, eligible)) return approx;
    }
    if (model.index || this.options.exactTopK === 'int8') {
      const t0 = performance.now();
      const top = selectTopK(k, rules, eligible, wrap((width, accept) => model.topKExact(vector, width, none, accept)));
      this.metrics.exactTopK.observe((performance.now() - t0) / 1000);
      this.metrics.exactRescored.observe(model.exactRescored);
      return top;
    }
    return selectTopKAsync(k, rules, eligible, wrap((width) => this.batcher.submit({ kind: 'topk-vector', model, vector, k: width, exclude: none })));
  }

  /**
   * The live window encoded now, inline (no batch), when the model has an inline encoder (SASRec,
   * GRU4Rec, LSTM); else null, and the window goes through a micro-batched TF pass (item2vec).
   */
  private inlineVector(model: ServingModel, h: ModelHistory): Float32Array | null {
    if (!model.inlineEncoder) return null;
    const t0 = performance.now();
    const v = model.inlineEncoder.encode(h.ids, h.types);
    this.metrics.inlineEncode.observe((performance.now() - t0) / 1000);
    return v;
  }

  private acquire(): ServingModel {
    const model = this.slot.acquire();
    if (!model) throw new NoModelError(this.options.modelName);
    return model;
  }

  /**
   * The live windows and, when the scorer may use them, the users' stored vectors: read together.
   * With `asOf` (epoch ms), each window as it was then: its later events left out (and no stored vector).
   */
  private async subjectState(
    subjects: EventSubject[],
    model: ServingModel,
    asOf?: number,
  ): Promise<{ windows: Array<SequenceWindow | null>; vectors: Array<UserVector | null> | null }> {
    if (asOf !== undefined) {
      const windows = decodeAll(await readSubjectWindows(this.store, subjects));
      return { windows: windows.map((w) => (w && w.events.some((e) => e.ts > asOf) ? { ...w, events: w.events.filter((e) => e.ts <= asOf) } : w)), vectors: null };
    }
    const useVectors = this.options.useStoredVectors && this.redis !== null && model.acceptsUserVectors;
    if (subjects.every((s) => s.kind === 'user')) {
      const userIds = subjects.map((s) => s.id);
      if (useVectors && userIds.length === 1) {
        // One user (most requests): the window and the vector share a hash slot ({userId}), so one
        // MGET reads both (one socket write and one reply instead of two: syscalls on loopback
        // were a quarter of a stored-vector request's event-loop time in bench:score's profile).
        const [w, v] = await this.redis!.mgetBuffer(this.keys.userSequence(userIds[0]!), this.keys.userVector(userIds[0]!));
        return { windows: decodeAll([w ?? null]), vectors: [v ? decodeOrNull(v) : null] };
      }
      const [windows, vectors] = await Promise.all([this.windows(userIds), useVectors ? this.storedVectors(userIds) : null]);
      return { windows, vectors };
    }
    return { windows: decodeAll(await readSubjectWindows(this.store, subjects)), vectors: null };
  }

  private async windows(userIds: string[]): Promise<Array<SequenceWindow | null>> {
    return decodeAll(await this.store.getMany(userIds));
  }

  private async storedVectors(userIds: string[]): Promise<Array<UserVector | null>> {
    const replies = await getBuffers(this.redis!, userIds.map((u) => this.keys.userVector(u)));
    // A missing or unreadable vector only means the window is encoded now.
    return replies.map(([err, b]) => (err || !b ? null : decodeOrNull(b)));
  }

  /**
   * Adds to each item the events of the window that drove its score, by occlusion with the served
   * model itself (explainByOcclusion): the window scored whole and without each of its last maxLen
   * events, through the same path the answer took (inline encoder, graph, or a micro-batched TF pass).
   */
  private async explain(model: ServingModel, h: ModelHistory, items: Array<{ itemId: string; explanation?: Explanation }>): Promise<void> {
    if (items.length === 0 || h.ids.length === 0) return;
    const graph = model.graph;
    const inline = graph ? null : model.inlineEncoder;
    const window = graph ? h.ids.length : model.encoder.config.maxLen;
    const ids = h.ids.subarray(Math.max(0, h.ids.length - window));
    const types = h.types.subarray(Math.max(0, h.types.length - window));
    const scorer: WindowScorer = graph
      ? (hist, _t, c) => graph.score(hist, c)
      : inline
        ? (hist, t, c) => model.scoreVector(inline.encode(hist, t), c)
        : async (hist, t, c) => Float32Array.from(await this.batcher.submit({ kind: 'rank', model, ids: hist, types: t, candidates: c }));
    const candidates = Int32Array.from(items, (it) => model.indexOf(it.itemId));
    const vocab = model.artifact.vocabulary;
    const label = (ix: number) => vocab[ix]!;
    const explained = await explainByOcclusion(ids, types, candidates, scorer);
    items.forEach((it, q) => {
      const events = explained[q]!.events.filter((e) => e.weight > 0).slice(0, 3);
      it.explanation = {
        reason: reasonText(events, label),
        events: events.map((e) => ({ itemId: label(e.item), type: EVENT_TYPES[e.type] ?? 'view', weight: e.weight })),
      };
    });
  }

  private named(model: ServingModel, items: Int32Array, scores: Float32Array): ScoredItem[] {
    const vocab = model.artifact.vocabulary;
    const out: ScoredItem[] = [];
    let content: ReturnType<CatalogueView['contentItems']> | undefined;
    for (let i = 0; i < items.length; i++) {
      const ix = items[i]!;
      if (ix < vocab.length) out.push({ itemId: vocab[ix]!, score: scores[i]! });
      else {
        content ??= this.catalogue.contentItems(model);
        // deleted from the catalogue while a batched search was in flight: left out
        const itemId = content?.idOf(ix);
        if (itemId !== undefined) out.push({ itemId, score: scores[i]!, source: 'content' });
      }
    }
    return out;
  }

  /** Scores the candidates the model does not know from their content vectors, when they have one. */
  private scoreFromContent(model: ServingModel, user: Float32Array, items: RankedItem[]): void {
    const content = this.catalogue.contentItems(model);
    if (!content || content.size === 0) return;
    for (const it of items) {
      if (it.score !== null && model.indexOf(it.itemId) > 0) continue;
      const cx = content.indexOf(it.itemId);
      if (cx === 0) continue;
      it.score = content.score(user, cx);
      it.source = 'content';
    }
  }
}

/** An answer before {@link ScoringService.stamp} gives it its request id and variant. */
type Stamp = Pick<RecommendationsAnswer, 'requestId' | 'experiment'>;
type Unstamped<A> = Omit<A, 'requestId' | 'experiment'>;

function ref(model: ServingModel): ModelRef {
  return { name: model.name, version: model.version };
}

function freshness(window: SequenceWindow | null, h: ModelHistory): SequenceFreshness {
  const ev = window?.events ?? [];
  const last = ev.length ? ev[ev.length - 1]!.ts : null;
  return { events: ev.length, lastEventTs: last, ageMs: last === null ? null : Math.max(0, Date.now() - last), unknownItems: h.dropped };
}

/**
 * The stored vector when it stands for the live window: made by the served model version from a
 * window with the same newest event and length (the codec caps the count at 255); null otherwise.
 */
function currentVector(v: UserVector | null | undefined, window: SequenceWindow | null, model: ServingModel): UserVector | null {
  const ev = window?.events;
  if (!v || !ev || ev.length === 0) return null;
  return v.version === model.version && v.lastTs === ev[ev.length - 1]!.ts && v.events === Math.min(255, ev.length) ? v : null;
}

function decodeAll(bufs: Array<Buffer | null>): Array<SequenceWindow | null> {
  return bufs.map((b) => {
    if (!b) return null;
    try {
      return decodeWindow(b);
    } catch (err) {
      // A window we cannot read is treated as no history: the answer degrades to popularity.
      if (err instanceof CodecError) return null;
      throw err;
    }
  });
}

/** A vector in a format this scorer does not know is no vector: the window is encoded again. */
function decodeOrNull(buf: Buffer): UserVector | null {
  try {
    return decodeUserVector(buf);
  } catch {
    return null;
  }
}
