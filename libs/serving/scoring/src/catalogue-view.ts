/**
 * The scorer's view of the item catalogue: what the rules need per item, in typed arrays indexed
 * by the served model's item index (availability, category id, price: 13 bytes per item, 650 KB
 * for 50,000 items), kept current from the items topic (each scorer its own consumer group) over a
 * snapshot of the catalogue store read at start. A change is visible to the next request: the
 * freshness is the topic's delivery time (measured in test/src/catalogue.spec.ts).
 *
 * Items the served model has not seen get a vector from its content map ({@link ContentItems}):
 * the view keeps each item's compact record (`encodeItem`, ~100 bytes without an image vector) to
 * build them when a model is first used and to update them on every change.
 *
 * Order: every record carries its `updatedAt` (the items-topic message's timestamp); the view
 * keeps the newer of what the snapshot and the topic bring, and remembers deletions by time, so a
 * snapshot read while the topic already delivered newer changes does not roll them back.
 */
import { categoryMatches, decodeItem, encodeItem, type StoredItem } from '@seqrec/contracts';
import { itemContentFeatures, type ContentMap, type ItemRules } from '@seqrec/model';
import { ContentItems, DEFAULT_NEW_ITEM_BOOST } from './content-items';
import type { RuleSpec } from './rules';

/** Availability codes in {@link ModelTables.available}. */
const NOT_IN_CATALOGUE = 0;
const AVAILABLE = 1;
const UNAVAILABLE = 2;

interface Facts {
  available: boolean;
  category: number;
  price: number;
  updatedAt: number;
  /** The item's stored record, for its content features. */
  record: Buffer;
}

/**
 * The catalogue by model item index (index 0, padding, unused), then the content items' indices
 * (`ContentItems.base` on); the arrays are replaced by longer ones when content items are added.
 */
export interface ModelTables {
  available: Uint8Array;
  category: Int32Array;
  price: Float64Array;
}

/** What a rule needs of the served model: its item index and size. */
export interface IndexedModel {
  indexOf(itemId: string): number;
  readonly artifact: { readonly index: ReadonlyMap<string, number>; readonly vocabulary: readonly string[]; readonly contentMap?: ContentMap | null | undefined };
}

export class CatalogueView {
  private readonly items = new Map<string, Facts>();
  /** Deletion time of ids deleted since start (a snapshot record older than it is ignored). */
  private readonly deleted = new Map<string, number>();
  private readonly categoryIds = new Map<string, number>();
  private readonly categoryPaths: string[] = [];
  /**
   * The tables of the last two model versions asked for, newest first: during a hot swap, requests
   * on the old and the new version alternate for a moment, and neither rebuilds the other's.
   */
  private tablesOf: ModelState[] = [];

  constructor(
    /** How hard items the model has not seen compete (SCORER_NEW_ITEM_BOOST, {@link ContentItems}). */
    readonly newItemBoost = DEFAULT_NEW_ITEM_BOOST,
  ) {}

  /** Items in the view. */
  get size(): number {
    return this.items.size;
  }

  /** Applies a stored record (its id and `encodeItem` bytes); false when it is older than what the view has. */
  putRecord(itemId: string, record: Buffer): boolean {
    return this.put(decodeItem(itemId, record), Buffer.from(record));
  }

  put(item: StoredItem, record: Buffer = encodeItem(item, item.updatedAt)): boolean {
    const cur = this.items.get(item.itemId);
    if ((cur && cur.updatedAt > item.updatedAt) || (this.deleted.get(item.itemId) ?? -Infinity) > item.updatedAt) return false;
    const facts: Facts = { available: item.available !== false, category: item.category ? this.categoryId(item.category) : -1, price: item.price ?? NaN, updatedAt: item.updatedAt, record };
    this.items.set(item.itemId, facts);
    this.deleted.delete(item.itemId);
    this.patch(item.itemId, facts);
    return true;
  }

  remove(itemId: string, at: number): void {
    const cur = this.items.get(itemId);
    if (cur && cur.updatedAt > at) return;
    this.items.delete(itemId);
    this.deleted.set(itemId, at);
    this.patch(itemId, null);
  }

  /** An item's catalogue price (undefined when the catalogue has no price for it). */
  priceOf(itemId: string): number | undefined {
    const p = this.items.get(itemId)?.price;
    return p === undefined || Number.isNaN(p) ? undefined : p;
  }

  /** The category path of a category id. */
  categoryPath(id: number): string | undefined {
    return this.categoryPaths[id];
  }

  /** The typed arrays for a model's item index (built on first use per model version, patched on every change after). */
  tables(model: IndexedModel): ModelTables {
    return this.of(model).tables;
  }

  /**
   * The catalogue items the model has not seen, with vectors from its content map; null when the
   * model has no content map (a graph model, or an artifact trained without catalogue content).
   */
  contentItems(model: IndexedModel): ContentItems | null {
    return this.of(model).content;
  }

  private of(model: IndexedModel): ModelState {
    const index = model.artifact.index;
    const cached = this.tablesOf[0]?.index === index ? this.tablesOf[0] : this.tablesOf[1]?.index === index ? this.tablesOf[1] : undefined;
    if (cached) return cached;
    const n = model.artifact.vocabulary.length;
    const map = model.artifact.contentMap;
    const content = map ? new ContentItems(map, n, this.newItemBoost) : null;
    const unseen: Array<[string, Facts]> = [];
    for (const [id, f] of this.items) if (!index.has(id) && content) unseen.push([id, f]);
    for (const [id, f] of unseen) content!.put(id, contentOf(id, f));
    const size = content ? content.end : n;
    const tables: ModelTables = { available: new Uint8Array(size), category: new Int32Array(size).fill(-1), price: new Float64Array(size).fill(NaN) };
    for (const [id, f] of this.items) {
      const ix = index.get(id) ?? content?.indexOf(id) ?? 0;
      if (ix > 0) write(tables, ix, f);
    }
    const state: ModelState = { index, tables, content };
    this.tablesOf = [state, ...this.tablesOf.slice(0, 1)];
    return state;
  }

  /**
   * The rules of a request as the top-k search applies them, or null when they restrict nothing.
   * `interacted`: model indices the user had events of the excluded types with.
   */
  compile(model: IndexedModel, spec: RuleSpec, interacted: ArrayLike<number>): ItemRules | null {
    const excluded = new Set<number>();
    for (let i = 0; i < interacted.length; i++) excluded.add(interacted[i]!);
    for (const id of spec.excludeItems) {
      const ix = model.indexOf(id);
      if (ix > 0) excluded.add(ix);
    }
    const t = this.tables(model);
    const categoryOk = this.categoryFilter(spec);
    const { onlyAvailable, minPrice, maxPrice } = spec;
    const priced = minPrice !== null || maxPrice !== null;
    const lo = minPrice ?? -Infinity;
    const hi = maxPrice ?? Infinity;
    const filters = excluded.size > 0 || onlyAvailable || categoryOk !== null || priced;
    const accept = filters
      ? (i: number): boolean => {
          if (excluded.has(i)) return false;
          if (onlyAvailable && t.available[i] === UNAVAILABLE) return false;
          if (categoryOk !== null && !categoryOk(t.category[i]!)) return false;
          if (priced) {
            const p = t.price[i]!;
            if (!(p >= lo && p <= hi)) return false; // an item without a price fails a price range
          }
          return true;
        }
      : undefined;
    const cap = spec.maxPerCategory > 0;
    if (!accept && !cap) return null;
    return {
      ...(accept ? { accept } : {}),
      ...(cap ? { maxPerGroup: spec.maxPerCategory, groupOf: (i: number) => t.category[i]! } : {}),
    };
  }

  /** Per category id, whether the include/exclude prefixes let it through (memoised for the request); null: no category rule. */
  private categoryFilter(spec: RuleSpec): ((category: number) => boolean) | null {
    const include = spec.categories;
    const exclude = spec.excludeCategories;
    if (include.length === 0 && exclude.length === 0) return null;
    const memo = new Int8Array(this.categoryPaths.length); // 0 unknown, 1 passes, -1 fails
    return (c) => {
      // An item with no category (or not in the catalogue) fails an include rule and passes an exclude one.
      if (c < 0) return include.length === 0;
      if (c >= memo.length) return this.categoryPasses(c, include, exclude);
      if (memo[c] === 0) memo[c] = this.categoryPasses(c, include, exclude) ? 1 : -1;
      return memo[c] === 1;
    };
  }

  private categoryPasses(c: number, include: string[], exclude: string[]): boolean {
    const path = this.categoryPaths[c]!;
    if (include.length > 0 && !include.some((p) => categoryMatches(path, p))) return false;
    return !exclude.some((p) => categoryMatches(path, p));
  }

  private categoryId(path: string): number {
    let id = this.categoryIds.get(path);
    if (id === undefined) {
      id = this.categoryPaths.length;
      this.categoryPaths.push(path);
      this.categoryIds.set(path, id);
    }
    return id;
  }

  private patch(itemId: string, f: Facts | null): void {
    for (const t of this.tablesOf) patchState(t, itemId, f);
  }
}

interface ModelState {
  index: ReadonlyMap<string, number>;
  tables: ModelTables;
  content: ContentItems | null;
}

function patchState(t: ModelState, itemId: string, f: Facts | null): void {
  const known = t.index.get(itemId);
  if (known !== undefined) {
    if (f) write(t.tables, known, f);
    else clear(t.tables, known);
    return;
  }
  if (!t.content) return;
  const before = t.content.indexOf(itemId);
  const now = f ? t.content.put(itemId, contentOf(itemId, f)) : 0;
  if (now === 0) {
    t.content.remove(itemId);
    if (before > 0) clear(t.tables, before);
    return;
  }
  if (now >= t.tables.available.length) grow(t.tables, Math.max(t.content.end, 2 * t.tables.available.length));
  write(t.tables, now, f!);
}

function contentOf(itemId: string, f: Facts) {
  return itemContentFeatures(decodeItem(itemId, f.record));
}

function grow(t: ModelTables, size: number): void {
  const available = new Uint8Array(size);
  available.set(t.available);
  const category = new Int32Array(size).fill(-1);
  category.set(t.category);
  const price = new Float64Array(size).fill(NaN);
  price.set(t.price);
  Object.assign(t, { available, category, price });
}

function clear(t: ModelTables, ix: number): void {
  t.available[ix] = NOT_IN_CATALOGUE;
  t.category[ix] = -1;
  t.price[ix] = NaN;
}

function write(t: ModelTables, ix: number, f: Facts): void {
  t.available[ix] = f.available ? AVAILABLE : UNAVAILABLE;
  t.category[ix] = f.category;
  t.price[ix] = f.price;
}
