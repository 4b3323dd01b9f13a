import { CATEGORY_SEPARATOR, decodeItem } from '@seqrec/contracts';
import type { CatalogueStore } from '@seqrec/window';

/** How long a looked-up category is reused: a category change reaches the trending counts within this. */
export const CATEGORY_TTL_MS = 60_000;
/** Entries kept; past it the cache starts over (a shop's active items fit many times over). */
export const CATEGORY_CACHE_ENTRIES = 200_000;

/**
 * Items' top-level categories (`Toys` of `Toys/Cars/Racing`) from the catalogue store, for the
 * per-category trending counts: one batched read per events batch for the items not looked up in
 * the last {@link CATEGORY_TTL_MS}. An item not in the catalogue, or whose record does not decode,
 * has no category (it counts overall only).
 */
export class ItemCategories {
  private readonly cache = new Map<string, { category: string | undefined; until: number }>();

  constructor(
    private readonly store: CatalogueStore,
    private readonly ttlMs = CATEGORY_TTL_MS,
    private readonly maxEntries = CATEGORY_CACHE_ENTRIES,
  ) {}

  async of(itemIds: Iterable<string>, now = Date.now()): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    const missing: string[] = [];
    for (const id of itemIds) {
      if (out.has(id)) continue;
      const hit = this.cache.get(id);
      if (hit && hit.until > now) out.set(id, hit.category);
      else {
        out.set(id, undefined);
        missing.push(id);
      }
    }
    if (missing.length === 0) return out;
    const records = await this.store.getMany(missing);
    if (this.cache.size + missing.length > this.maxEntries) this.cache.clear();
    missing.forEach((id, i) => {
      const category = topLevel(id, records[i] ?? null);
      out.set(id, category);
      this.cache.set(id, { category, until: now + this.ttlMs });
    });
    return out;
  }
}

function topLevel(itemId: string, record: Buffer | null): string | undefined {
  if (!record) return undefined;
  try {
    const path = decodeItem(itemId, record).category;
    return path ? path.split(CATEGORY_SEPARATOR)[0] : undefined;
  } catch {
    return undefined;
  }
}
