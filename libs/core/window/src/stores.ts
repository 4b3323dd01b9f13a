/**
 * State-store interfaces of the sequence pipeline. Redis implementations live in `@seqrec/redis`;
 * in-memory ones (embedded mode, unit tests) below, with the same semantics.
 */

/** A conditional write of one user's encoded window. */
export interface WindowWrite {
  userId: string;
  /** The value the new one was computed from (`null`: the user had none). */
  expected: Buffer | null;
  next: Buffer;
  /**
   * `expected` is a corrupt window being rebuilt: its header says nothing trustworthy, so the
   * watermark guard is skipped (the compare-and-set still holds).
   */
  replace?: boolean;
}

export type WriteOutcome = 'ok' | 'conflict' | 'stale';

export interface SequenceStore {
  /** Encoded windows of the users, `null` for a user with none. */
  getMany(userIds: string[]): Promise<Array<Buffer | null>>;
  /**
   * Compare-and-set per user, atomically per user: writes `next` only when the stored value still
   * equals `expected` (`conflict` otherwise) and when `next`'s watermark moves forward (`stale`
   * otherwise; not checked for a `replace` write).
   */
  writeMany(writes: WindowWrite[]): Promise<WriteOutcome[]>;
  /** Bytes the store spends on one user's window, key and overhead included (capacity planning). */
  memoryUsage(userId: string): Promise<number | null>;
}

/** Dense indices for external item ids, shared by every process of a deployment. */
export interface ItemDictionary {
  /** Indices of the ids, allocating new ones as needed. */
  indicesOf(itemIds: string[]): Promise<number[]>;
  /** Ids of the indices (`undefined` for an unknown index). */
  idsOf(indices: number[]): Promise<Array<string | undefined>>;
}

/**
 * Claims on producer event ids, to drop producer retries (duplicates) within a TTL. A claim is
 * never given back: the ingester claims an id only for a message that is durably on the raw topic
 * (see docs/ingest-protocol.md), so the holder's message is published exactly once whatever fails.
 */
/**
 * What a claim is asked for: `publish` (the raw consumer: may this source publish the event now?)
 * or `answer` (the HTTP path: does this attempt own the event, published or not?).
 */
export type ClaimPurpose = 'publish' | 'answer';

export interface EventClaims {
  /**
   * Claims each event id for `source` (the raw message's partition and offset, or the HTTP attempt
   * its message carries). `true` when the id was free or is claimed by the same source and, for
   * `publish`, not yet marked published (our own redelivery after an aborted batch); `false` when
   * another source claimed it (a duplicate) or, for `publish`, the same source already published it
   * (the raw topic replayed).
   */
  claim(claims: Array<{ eventId: string; source: string }>, ttlMs: number, purpose?: ClaimPurpose): Promise<boolean[]>;
  /**
   * Marks claims as published by their sources, once the transaction that published the events
   * committed; the TTL is kept. Claims held by another source are left alone.
   */
  markPublished(claims: Array<{ eventId: string; source: string }>): Promise<void>;
}

export class MemorySequenceStore implements SequenceStore {
  private readonly windows = new Map<string, Buffer>();

  async getMany(userIds: string[]): Promise<Array<Buffer | null>> {
    return userIds.map((u) => this.windows.get(u) ?? null);
  }

  async writeMany(writes: WindowWrite[]): Promise<WriteOutcome[]> {
    return writes.map((w) => {
      const cur = this.windows.get(w.userId) ?? null;
      if (!(cur === null ? w.expected === null : w.expected !== null && cur.equals(w.expected))) return 'conflict';
      this.windows.set(w.userId, Buffer.from(w.next));
      return 'ok';
    });
  }

  async memoryUsage(userId: string): Promise<number | null> {
    const v = this.windows.get(userId);
    return v ? v.length + userId.length : null;
  }

  size(): number {
    return this.windows.size;
  }
}

export class MemoryItemDictionary implements ItemDictionary {
  private readonly index = new Map<string, number>();
  private readonly ids: string[] = [];

  async indicesOf(itemIds: string[]): Promise<number[]> {
    return itemIds.map((id) => {
      let i = this.index.get(id);
      if (i === undefined) {
        i = this.ids.length;
        this.ids.push(id);
        this.index.set(id, i);
      }
      return i;
    });
  }

  async idsOf(indices: number[]): Promise<Array<string | undefined>> {
    return indices.map((i) => this.ids[i]);
  }
}

export class MemoryEventClaims implements EventClaims {
  private readonly claims = new Map<string, { source: string; published: boolean; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async claim(claims: Array<{ eventId: string; source: string }>, ttlMs: number, purpose: ClaimPurpose = 'publish'): Promise<boolean[]> {
    const now = this.now();
    if (this.claims.size > 100_000) for (const [k, v] of this.claims) if (v.expires <= now) this.claims.delete(k);
    return claims.map(({ eventId, source }) => {
      const held = this.claims.get(eventId);
      if (held && held.expires > now) return held.source === source && (purpose === 'answer' || !held.published);
      this.claims.set(eventId, { source, published: false, expires: now + ttlMs });
      return true;
    });
  }

  async markPublished(claims: Array<{ eventId: string; source: string }>): Promise<void> {
    const now = this.now();
    for (const { eventId, source } of claims) {
      const held = this.claims.get(eventId);
      if (held && held.expires > now && held.source === source) held.published = true;
    }
  }
}

/** One change of the item catalogue: the item's compact record (`encodeItem`), or null to delete it. */
export interface CatalogueChange {
  itemId: string;
  record: Buffer | null;
}

/** The item catalogue's state store (written by the items-topic consumer, read by the scorer at start). */
export interface CatalogueStore {
  /** Applies the changes in order: a record replaces the item's, null deletes it. */
  apply(changes: CatalogueChange[]): Promise<void>;
  /** The items' records, null for an unknown item. */
  getMany(itemIds: string[]): Promise<Array<Buffer | null>>;
  /** Every stored item, page by page (no order). */
  scan(onPage: (page: Array<[string, Buffer]>) => void): Promise<void>;
}

export class MemoryCatalogueStore implements CatalogueStore {
  private readonly items = new Map<string, Buffer>();

  async apply(changes: CatalogueChange[]): Promise<void> {
    for (const c of changes) {
      if (c.record) this.items.set(c.itemId, Buffer.from(c.record));
      else this.items.delete(c.itemId);
    }
  }

  async getMany(itemIds: string[]): Promise<Array<Buffer | null>> {
    return itemIds.map((id) => this.items.get(id) ?? null);
  }

  async scan(onPage: (page: Array<[string, Buffer]>) => void): Promise<void> {
    const all = [...this.items];
    for (let i = 0; i < all.length; i += 1000) onPage(all.slice(i, i + 1000));
  }
}
