import type { SubjectKind, UserDeletionV1 } from '@seqrec/contracts';

/**
 * State-store interfaces of the sequence pipeline. Redis implementations live in `@seqrec/redis`;
 * in-memory ones (embedded mode, unit tests) below, with the same semantics.
 */

/** A conditional write of one user's (or session's) encoded window. */
export interface WindowWrite {
  /** The subject's id: a user id, or a session id when `kind` is `session`. */
  userId: string;
  /** Whose window (default `user`). */
  kind?: SubjectKind;
  /** The value the new one was computed from (`null`: the user had none). */
  expected: Buffer | null;
  next: Buffer;
  /**
   * `expected` is a corrupt window being rebuilt: its header says nothing trustworthy, so the
   * watermark guard is skipped (the compare-and-set still holds).
   */
  replace?: boolean;
  /**
   * A user's window: the deletion the caller filtered the events against (its `at`; objections
   * never write). The write is refused (`deleted`) when the user's marker says more: a deletion
   * after it, or an objection. Absent: the caller knew of none.
   */
  deletedAt?: number;
}

/**
 * `merged`: a session's window refused the write because the session merged into a user.
 * `deleted`: a user's window refused it because the user was deleted (or objects) after what the
 * caller knew: read the markers again, drop the events they cover, retry.
 */
export type WriteOutcome = 'ok' | 'conflict' | 'stale' | 'merged' | 'deleted';

/** A user's deletion marker (see `RedisKeys.userDeleted`). */
export type DeletionMarker = Pick<UserDeletionV1, 'at' | 'objection'>;

/** What {@link SequenceStore.erase} did. */
export interface EraseOutcome {
  /** False: the store had this deletion (or a later one) already, or the record is too old to matter (see `erase`). */
  applied: boolean;
  /** Keys deleted: the user's window, vector, merged sessions, and the linked sessions' windows and links. */
  keys: number;
  /** Sessions linked to the user whose window and link were deleted. */
  sessions: number;
}

/** Step 1 of a session merge ({@link SequenceStore.beginMerge}). */
export type MergeStart =
  /** Under way: the session's final window (`null`: it has none), closed to new events. */
  | { status: 'open'; window: Buffer | null }
  /** Merged into this user before: nothing to do. */
  | { status: 'done' }
  /** Merged into another user before (first login wins): nothing to do. */
  | { status: 'taken'; userId: string };

/** Step 2 of a session merge: the user's window with the session's events merged in. */
export interface MergeCommit {
  userId: string;
  sessionId: string;
  /**
   * What makes the merge once: `<sessionId>@<partition>:<offset>`, the session's final window's
   * watermark. A redelivered merge has the same; a session anonymous again after its link expired
   * has another window, so its next login merges it.
   */
  mergeId: string;
  /** The user's window `next` was computed from (`null`: none). */
  expected: Buffer | null;
  /** The new user window. */
  next: Buffer;
  /** As {@link WindowWrite.deletedAt}. */
  deletedAt?: number;
}

/** `done`: the session was merged into the user before (nothing written); `deleted`: as {@link WriteOutcome}. */
export type MergeCommitOutcome = 'ok' | 'done' | 'conflict' | 'deleted';

export interface SequenceStore {
  /** Encoded windows of the users (or sessions), `null` for one with none. */
  getMany(ids: string[], kind?: SubjectKind): Promise<Array<Buffer | null>>;
  /**
   * Compare-and-set per window, atomically per window: writes `next` only when the stored value
   * still equals `expected` (`conflict` otherwise), when `next`'s watermark moves forward (`stale`
   * otherwise; not checked for a `replace` write) and, for a session, while the session has not
   * merged into a user (`merged` otherwise).
   */
  writeMany(writes: WindowWrite[]): Promise<WriteOutcome[]>;
  /** The user each session merged into (or is merging into), `null` for a session that did not. */
  mergedInto(sessionIds: string[]): Promise<Array<string | null>>;
  /**
   * Step 1 of merging sessions into users (logins), per pair on the session's slot: records the
   * session -> user link (from then on the session's events go to the user) and returns the
   * session's final window. Idempotent.
   */
  beginMerge(merges: Array<{ sessionId: string; userId: string }>): Promise<MergeStart[]>;
  /** Step 2, per merge on the user's slot: the merged user window and the user -> session link (the merge id), atomically, once. */
  commitMerge(commits: MergeCommit[]): Promise<MergeCommitOutcome[]>;
  /** Step 3, on the session's slot: deletes the session's window and marks the merge done. Idempotent. */
  endMerge(merges: Array<{ sessionId: string; userId: string }>): Promise<void>;
  /** Bytes the store spends on one user's window, key and overhead included (capacity planning). */
  memoryUsage(userId: string): Promise<number | null>;
  /**
   * Records each login's session on the user's side (before {@link beginMerge} links the session to
   * the user), so that erasing the user finds every session linked to it.
   */
  linkSessions(logins: Array<{ sessionId: string; userId: string }>): Promise<void>;
  /** The users' deletion markers, null for a user with none. */
  markers(userIds: string[]): Promise<Array<DeletionMarker | null>>;
  /**
   * Erases a deleted (or objecting) user: sets the user's marker and deletes, atomically on the
   * user's slot, the window, the vector and the merged sessions, then the windows and links of the
   * sessions linked to the user. Idempotent and safe to replay: a deletion the marker already
   * covers, or one older than the marker's lifetime (no event it covers can be in flight any more:
   * erasing again would delete the state of a user who came back), does nothing.
   */
  erase(deletion: UserDeletionV1): Promise<EraseOutcome>;
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

/** The same semantics as the Redis store, in memory (embedded mode, tests); no expiry. */
export class MemorySequenceStore implements SequenceStore {
  private readonly windows = new Map<string, Buffer>();
  /** Session id -> merge state (`done`) and user. */
  private readonly sessionLinks = new Map<string, { userId: string; done: boolean }>();
  /** User id -> sessions merged into it. */
  private readonly merged = new Map<string, Set<string>>();
  /** User id -> deletion marker (no expiry: see {@link MemorySequenceStore.erase}). */
  private readonly deleted = new Map<string, DeletionMarker>();
  /** User id -> sessions that logged into it. */
  private readonly links = new Map<string, Set<string>>();

  /** @param markerTtlMs as the Redis store's: a deletion older than this is not applied again (0: always). */
  constructor(
    private readonly markerTtlMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  async getMany(ids: string[], kind: SubjectKind = 'user'): Promise<Array<Buffer | null>> {
    return ids.map((u) => this.windows.get(slot(kind, u)) ?? null);
  }

  async writeMany(writes: WindowWrite[]): Promise<WriteOutcome[]> {
    return writes.map((w) => {
      const kind = w.kind ?? 'user';
      if (kind === 'session' && this.sessionLinks.has(w.userId)) return 'merged';
      if (kind === 'user' && refuses(this.deleted.get(w.userId), w.deletedAt)) return 'deleted';
      const key = slot(kind, w.userId);
      if (!sameBytes(this.windows.get(key) ?? null, w.expected)) return 'conflict';
      this.windows.set(key, Buffer.from(w.next));
      return 'ok';
    });
  }

  async mergedInto(sessionIds: string[]): Promise<Array<string | null>> {
    return sessionIds.map((s) => this.sessionLinks.get(s)?.userId ?? null);
  }

  async beginMerge(merges: Array<{ sessionId: string; userId: string }>): Promise<MergeStart[]> {
    return merges.map(({ sessionId, userId }): MergeStart => {
      const m = this.sessionLinks.get(sessionId);
      if (m && m.userId !== userId) return { status: 'taken', userId: m.userId };
      if (m?.done) return { status: 'done' };
      if (!m) this.sessionLinks.set(sessionId, { userId, done: false });
      return { status: 'open', window: this.windows.get(slot('session', sessionId)) ?? null };
    });
  }

  async commitMerge(commits: MergeCommit[]): Promise<MergeCommitOutcome[]> {
    return commits.map((c): MergeCommitOutcome => {
      let set = this.merged.get(c.userId);
      if (set?.has(c.mergeId)) return 'done';
      if (refuses(this.deleted.get(c.userId), c.deletedAt)) return 'deleted';
      const key = slot('user', c.userId);
      if (!sameBytes(this.windows.get(key) ?? null, c.expected)) return 'conflict';
      this.windows.set(key, Buffer.from(c.next));
      if (!set) this.merged.set(c.userId, (set = new Set()));
      set.add(c.mergeId);
      return 'ok';
    });
  }

  async endMerge(merges: Array<{ sessionId: string; userId: string }>): Promise<void> {
    for (const { sessionId, userId } of merges) {
      const m = this.sessionLinks.get(sessionId);
      if (!m || m.userId !== userId || m.done) continue;
      m.done = true;
      this.windows.delete(slot('session', sessionId));
    }
  }

  async memoryUsage(userId: string): Promise<number | null> {
    const v = this.windows.get(slot('user', userId));
    return v ? v.length + userId.length : null;
  }

  async linkSessions(logins: Array<{ sessionId: string; userId: string }>): Promise<void> {
    for (const { sessionId, userId } of logins) {
      let set = this.links.get(userId);
      if (!set) this.links.set(userId, (set = new Set()));
      set.add(sessionId);
    }
  }

  async markers(userIds: string[]): Promise<Array<DeletionMarker | null>> {
    return userIds.map((u) => this.deleted.get(u) ?? null);
  }

  async erase(d: UserDeletionV1): Promise<EraseOutcome> {
    if (!newDeletion(this.deleted.get(d.userId), d, this.markerTtlMs, this.now())) return { applied: false, keys: 0, sessions: 0 };
    this.deleted.set(d.userId, { at: d.at, objection: d.objection });
    let keys = 0;
    if (this.windows.delete(slot('user', d.userId))) keys++;
    const sessions = new Set([...(this.links.get(d.userId) ?? []), ...[...(this.merged.get(d.userId) ?? [])].map(sessionOfMerge)]);
    if (this.merged.delete(d.userId)) keys++;
    this.links.delete(d.userId);
    let erased = 0;
    for (const s of sessions) {
      if (this.sessionLinks.get(s)?.userId !== d.userId) continue;
      this.sessionLinks.delete(s);
      keys++;
      if (this.windows.delete(slot('session', s))) keys++;
      erased++;
    }
    return { applied: true, keys, sessions: erased };
  }

  size(): number {
    return this.windows.size;
  }
}

/** Whether a user's marker refuses a write computed against the deletion at `known` (undefined: none). */
function refuses(marker: DeletionMarker | undefined, known: number | undefined): boolean {
  return marker !== undefined && (marker.objection || known === undefined || marker.at > known);
}

/**
 * Whether `d` must be applied over the stored marker (the same rules as `eraseUser-4.lua`): not when
 * the marker has it or a later record already; not a deletion older than the marker's lifetime when
 * there is no marker (applied and expired: nothing it covers can still be in flight, and erasing
 * again would delete a returning user's new state).
 */
export function newDeletion(marker: DeletionMarker | null | undefined, d: DeletionMarker, markerTtlMs: number, now: number): boolean {
  if (marker) return d.at > marker.at || (d.at === marker.at && d.objection && !marker.objection);
  return d.objection || markerTtlMs <= 0 || d.at > now - markerTtlMs;
}

/** The session of a merged-sessions member: a merge id `<sessionId>@<partition>:<offset>`. */
export function sessionOfMerge(member: string): string {
  const m = /^(.*)@\d+:\d+$/s.exec(member);
  return m ? m[1]! : member;
}

function slot(kind: SubjectKind, id: string): string {
  return `${kind === 'user' ? 'u' : 's'}:${id}`;
}

function sameBytes(current: Buffer | null, expected: Buffer | null): boolean {
  return current === null ? expected === null : expected !== null && current.equals(expected);
}

/** An item event to count: its events-topic offset, time, item, and the item's top-level category when known. */
export interface TrendingEvent {
  offset: number;
  ts: number;
  itemId: string;
  category?: string;
}

/**
 * Time-decayed item counts of the whole shop and of each top-level category (see
 * `bumpTrending-n.lua`), kept by the sequence-builder.
 */
export interface TrendingStore {
  /**
   * Counts item events of one events-topic partition, each once: events at or below the offset
   * counted last for that partition are skipped. Offsets ascending. An event with a category
   * counts in its category's list too.
   */
  record(partition: number, events: TrendingEvent[]): Promise<number>;
  /** The k items with the highest decayed counts now, overall or in one top-level category, best first (empty while nothing was counted). */
  top(k: number, now?: number, category?: string): Promise<Array<{ itemId: string; score: number }>>;
}

/** One decayed-count set with the Redis script's arithmetic. */
class DecayedCounts {
  readonly scores = new Map<string, number>();
  epoch: number | null = null;

  constructor(
    private readonly halfLifeMs: number,
    private readonly keep: number,
  ) {}

  add(ts: number, itemId: string): void {
    const half = this.halfLifeMs / 1000;
    const t = Math.floor(ts / 1000);
    this.epoch ??= t;
    let x = (t - this.epoch) / half;
    if (x > 64) {
      const shift = Math.floor(x);
      if (this.scores.size > this.keep) {
        const kept = [...this.scores].sort((a, b) => b[1] - a[1]).slice(0, this.keep);
        this.scores.clear();
        for (const [item, s] of kept) this.scores.set(item, s);
      }
      for (const [item, s] of this.scores) {
        const v = s * 2 ** -shift;
        if (v < 2 ** -30) this.scores.delete(item);
        else this.scores.set(item, v);
      }
      this.epoch += shift * half;
      x -= shift;
    }
    this.scores.set(itemId, (this.scores.get(itemId) ?? 0) + 2 ** x);
  }

  top(k: number, now: number): Array<{ itemId: string; score: number }> {
    if (this.epoch === null) return [];
    const scale = 2 ** -((now / 1000 - this.epoch) / (this.halfLifeMs / 1000));
    return [...this.scores]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, k)
      .map(([itemId, s]) => ({ itemId, score: s * scale }));
  }
}

/**
 * In-memory {@link TrendingStore} with the Redis one's arithmetic: scores scaled by
 * 2^((t - epoch) / half-life), renormalised past 2^64, one set overall and one per category.
 */
export class MemoryTrendingStore implements TrendingStore {
  private readonly overall: DecayedCounts;
  private readonly categories = new Map<string, DecayedCounts>();
  private readonly offsets = new Map<number, number>();

  /**
   * @param halfLifeMs the half-life of a count
   * @param keep members a renormalisation keeps (the best)
   */
  constructor(
    private readonly halfLifeMs: number,
    private readonly keep = 10_000,
  ) {
    this.overall = new DecayedCounts(halfLifeMs, keep);
  }

  async record(partition: number, events: TrendingEvent[]): Promise<number> {
    const last = this.offsets.get(partition) ?? -1;
    let counted = 0;
    let top = last;
    for (const e of events) {
      if (e.offset <= last) continue;
      this.overall.add(e.ts, e.itemId);
      if (e.category) {
        let c = this.categories.get(e.category);
        if (!c) this.categories.set(e.category, (c = new DecayedCounts(this.halfLifeMs, this.keep)));
        c.add(e.ts, e.itemId);
      }
      counted++;
      top = Math.max(top, e.offset);
    }
    this.offsets.set(partition, top);
    return counted;
  }

  async top(k: number, now: number = Date.now(), category?: string): Promise<Array<{ itemId: string; score: number }>> {
    const set = category === undefined ? this.overall : this.categories.get(category);
    return set ? set.top(k, now) : [];
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
