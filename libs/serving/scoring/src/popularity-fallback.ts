import { Inject, Injectable, Logger } from '@nestjs/common';
import { TRENDING_STORE } from '@seqrec/nest-platform';
import type { TrendingStore } from '@seqrec/window';
import type { ScoredItem } from './scoring.api';
import { SCORING_OPTIONS } from './scoring.constants';
import type { ServingModel } from './serving-model';
import { noRules, selectTopK, type ItemRules } from '@seqrec/model';
import { CATEGORY_SEPARATOR } from '@seqrec/contracts';
import type { ContentItems } from './content-items';

type Trending = Array<{ itemId: string; score: number }>;

/** Where a popularity answer came from: the live trending counts, or the model's training data. */
export type PopularitySource = 'trending' | 'training';

export interface PopularityFallbackOptions {
  /** Reuse the trending list read from the store for this long, ms (SCORER_TRENDING_CACHE_MS; 0: read every time). */
  trendingCacheMs: number;
  /** Largest k asked for (SCORER_MAX_K): the list read holds this many items past those a request may exclude. */
  maxK: number;
}

/** Trending items read beyond k, so that leaving out a user's purchases still leaves k. */
const SPARE = 50;
/** Trending lists cached at once (overall plus the top-level categories asked for). */
const MAX_SCOPES = 1_000;

/**
 * The popularity answer for shoppers without usable history (unknown users, empty sessions): the
 * live trending items the sequence-builder keeps (time-decayed counts, `TRENDING_HALF_LIFE_MINUTES`),
 * cached for a moment, or the model's training-time popularity while nothing is trending (a fresh
 * deployment, or the store unreachable: popularity must not fail a request).
 *
 * Trending items the model does not know (new items) are recommended too: their counts are real.
 * A request that filters on categories gets the trending lists of their top-level categories
 * (the sequence-builder counts each event in its item's top-level category too), so a category
 * page's fallback is what trends there, not the shop's overall best sellers that pass the filter.
 */
@Injectable()
export class PopularityFallback {
  private readonly log = new Logger(PopularityFallback.name);
  /** Per scope ('' overall, else a top-level category): the list read and until when it is reused. */
  private readonly cached = new Map<string, { until: number; items: Trending }>();
  private readonly loading = new Map<string, Promise<Trending>>();

  constructor(
    @Inject(TRENDING_STORE) private readonly trending: TrendingStore,
    @Inject(SCORING_OPTIONS) private readonly options: PopularityFallbackOptions,
  ) {}

  /**
   * The k most popular items that pass the rules, best first. With rules, trending items are judged
   * by the catalogue view, which indexes the model's items and the catalogue items it scores from
   * content (`content`); other trending items are left out (an item that might break a rule is
   * never shown), and when fewer than k trending items pass, training-time popularity fills the
   * answer (those items score 0: they are not trending).
   */
  async top(
    model: ServingModel,
    k: number,
    rules: ItemRules | null,
    categories: readonly string[] = [],
    content: ContentItems | null = null,
  ): Promise<{ items: ScoredItem[]; source: PopularitySource }> {
    const live = categories.length > 0 ? await this.categoryLists(categories) : await this.list('');
    if (live.length === 0) return { items: this.training(model, k, rules), source: 'training' };
    if (noRules(rules)) return { items: live.slice(0, k), source: 'trending' };
    const known = live.map((t) => ({ ...t, index: model.indexOf(t.itemId) || (content?.indexOf(t.itemId) ?? 0) })).filter((t) => t.index > 0);
    const top = selectTopK(k, rules, known.length, (width, accept) => {
      const picked = known.filter((t) => !accept || accept(t.index)).slice(0, width);
      return { items: Int32Array.from(picked, (t) => t.index), scores: Float32Array.from(picked, (t) => t.score) };
    });
    const vocab = model.artifact.vocabulary;
    const items = Array.from(top.items, (ix, i) => ({ itemId: ix < vocab.length ? vocab[ix]! : content!.idOf(ix)!, score: top.scores[i]! }));
    // fewer trending items pass than asked for: the rest by training-time popularity, never fewer than k when k pass
    if (items.length < k) {
      const taken = new Set(items.map((t) => t.itemId));
      for (const t of this.training(model, k + items.length, rules)) if (items.length < k && !taken.has(t.itemId)) items.push({ itemId: t.itemId, score: 0 });
    }
    return { items, source: 'trending' };
  }

  /** Popularity scores of candidate items (model indices, 0: unknown) for a re-rank; trending items not in the list score 0. */
  async scores(model: ServingModel, itemIds: readonly string[], candidates: Int32Array): Promise<{ scores: number[]; source: PopularitySource }> {
    const live = await this.list('');
    if (live.length === 0) return { scores: Array.from(candidates, (c) => model.artifact.popularity[c] ?? 0), source: 'training' };
    const byId = new Map(live.map((t) => [t.itemId, t.score]));
    return { scores: itemIds.map((id) => byId.get(id) ?? 0), source: 'trending' };
  }

  private training(model: ServingModel, k: number, rules: ItemRules | null): ScoredItem[] {
    const pop = model.popular(k, rules);
    const vocab = model.artifact.vocabulary;
    return Array.from(pop.items, (ix, i) => ({ itemId: vocab[ix]!, score: pop.scores[i]! }));
  }

  /** The trending lists of the categories' top-level categories, merged (their counts share units: events, decayed alike). */
  private async categoryLists(categories: readonly string[]): Promise<Trending> {
    const scopes = [...new Set(categories.map((c) => c.split(CATEGORY_SEPARATOR)[0]!))];
    const lists = await Promise.all(scopes.map((s) => this.list(s)));
    if (lists.length === 1) return lists[0]!;
    return lists.flat().sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
  }

  private async list(scope: string): Promise<Trending> {
    const now = Date.now();
    const hit = this.cached.get(scope);
    if (hit && now < hit.until) return hit.items;
    let loading = this.loading.get(scope);
    if (!loading) {
      loading = this.trending
        .top(this.options.maxK + SPARE, now, scope === '' ? undefined : scope)
        .catch((err: unknown) => {
          this.log.warn(`trending items${scope ? ` of ${scope}` : ''} unreadable, training-time popularity instead: ${(err as Error).message}`);
          return [];
        })
        .then((items) => {
          // scopes come from requests: bound the cache however many categories are asked for
          if (this.cached.size >= MAX_SCOPES) this.cached.clear();
          this.cached.set(scope, { until: Date.now() + this.options.trendingCacheMs, items });
          return items;
        })
        .finally(() => this.loading.delete(scope));
      this.loading.set(scope, loading);
    }
    return loading;
  }
}
