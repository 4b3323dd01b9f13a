/**
 * The only place that builds Redis keys. Layout: `<prefix>:<entity>:{<id>}:<kind>`.
 *
 * The id is wrapped in a hash tag (`{...}`) so that everything a single Lua script touches for one
 * entity lives in one Redis Cluster slot, and different entities spread over all slots.
 */
/**
 * Hash-tag buckets of the de-duplication claims: a batch of n claims costs min(n, 64) script calls,
 * and 64 slots still spread over the masters of a Redis Cluster. Changing it renames every claim
 * key (claims taken before are not seen after).
 */
export const EVENT_CLAIM_BUCKETS = 64;

/** The claim bucket of an event id: FNV-1a of its UTF-16 code units, modulo {@link EVENT_CLAIM_BUCKETS}. */
export function eventClaimBucket(eventId: string): number {
  return fnv1a(eventId) % EVENT_CLAIM_BUCKETS;
}

/** FNV-1a (32 bits) of a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Hash-tag buckets of the item catalogue: the items are spread over this many hashes (slots), so a
 * Redis Cluster shares them across its masters and a full read is this many HSCANs.
 */
export const CATALOGUE_BUCKETS = 16;

/** The catalogue bucket of an item id: FNV-1a of its UTF-16 code units, modulo {@link CATALOGUE_BUCKETS}. */
export function catalogueBucket(itemId: string): number {
  return fnv1a(itemId) % CATALOGUE_BUCKETS;
}

export class RedisKeys {
  /** @param prefix namespace of one deployment (or one test), e.g. `seqrec` or `test-<uuid>`. */
  constructor(readonly prefix: string = 'seqrec') {
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) {
      throw new RangeError(`Redis key prefix must match [A-Za-z0-9_.-]+, got "${prefix}"`);
    }
  }

  /** String: the user's compact behaviour window (see `@seqrec/window` codec). */
  userSequence(userId: string): string {
    return `${this.prefix}:user:{${userId}}:seq`;
  }

  /**
   * String with TTL: the de-duplication claim on a producer event id (its value: the source that
   * claimed it). The hash tag is the id's claim bucket ({@link eventClaimBucket}), not the id, so a
   * batch of claims needs one script call per bucket instead of one command per event.
   */
  eventSeen(eventId: string): string {
    return `${this.prefix}:event:{c${eventClaimBucket(eventId)}}:${eventId}:seen`;
  }

  /** Hash: external item id -> dense item index (the state store's own dictionary, not a model vocabulary). */
  itemIndex(): string {
    return `${this.prefix}:items:{dict}:index`;
  }

  /** Hash: dense item index -> external item id. Same slot as {@link itemIndex}. */
  itemIds(): string {
    return `${this.prefix}:items:{dict}:ids`;
  }

  /** String counter: the last item index handed out. Same slot as {@link itemIndex}. */
  itemCounter(): string {
    return `${this.prefix}:items:{dict}:counter`;
  }

  /**
   * String: the user's vector as last computed by the embedding service (compact binary with the
   * model version and the window's newest event time; see `@seqrec/embedding` vector codec). Same
   * slot as {@link userSequence}.
   */
  userVector(userId: string): string {
    return `${this.prefix}:user:{${userId}}:vec`;
  }

  /**
   * String: an anonymous session's compact behaviour window (same codec as {@link userSequence});
   * its own key space and TTL (SESSION_WINDOW_TTL_HOURS). Deleted once merged into a user's.
   */
  sessionSequence(sessionId: string): string {
    return `${this.prefix}:session:{${sessionId}}:seq`;
  }

  /**
   * String `<0|1>:<userId>`: the user a session merged into (the session -> user link, written when
   * the session logged in; 1 once the merge is done). While it exists the session's own window takes
   * no events: they go to that user. TTL: a session window's. Same slot as {@link sessionSequence}.
   * Deleting a user deletes it (right to be forgotten).
   */
  sessionMergedInto(sessionId: string): string {
    return `${this.prefix}:session:{${sessionId}}:merged`;
  }

  /**
   * Set of `<sessionId>@<partition>:<offset>`: the session windows merged into the user's (the user
   * -> session side of the link): the second step of a merge adds the merge here in the same script
   * that writes the user's window, so a merge is applied once. Same slot as {@link userSequence}.
   */
  userMergedSessions(userId: string): string {
    return `${this.prefix}:user:{${userId}}:sessions`;
  }

  /**
   * Set of session ids: the sessions that logged into the user (written before the session ->
   * user link, so that erasing the user finds every session linked to it, merged or not). TTL: the
   * user window's. Same slot as {@link userSequence}.
   */
  userLogins(userId: string): string {
    return `${this.prefix}:user:{${userId}}:logins`;
  }

  /**
   * String `<at>` or `o:<at>`: the user's deletion marker (docs/privacy.md): the time (epoch ms)
   * the user was deleted, or `o:` while the user objects to profiling. Window writes of the user
   * check it in their script (an event stamped before a deletion never recreates the window); TTL
   * PRIVACY_MARKER_TTL_DAYS for a deletion, none for an objection. Same slot as {@link userSequence}.
   */
  /** The prefix of one experiment's join state (impressions, feedback, counts): one hash slot per experiment. */
  experiment(id: string): string {
    return `${this.prefix}:exp:{x:${id}}:`;
  }

  /** The active experiment (JSON) and every experiment started (hash id → JSON): one slot. */
  experimentsActive(): string {
    return `${this.prefix}:experiments:{cfg}:active`;
  }

  experimentsRecords(): string {
    return `${this.prefix}:experiments:{cfg}:records`;
  }

  userDeleted(userId: string): string {
    return `${this.prefix}:user:{${userId}}:deleted`;
  }

  /**
   * Sorted set: live trending items, overall (`all`) or of one top-level category
   * (`cat:<category>`): item id -> time-decayed count, scaled by 2^((t - epoch) / half-life) (see
   * `bumpTrending-n.lua`). One slot for every trending key.
   */
  trendingItems(scope = 'all'): string {
    return `${this.prefix}:trending:{trend}:${scope}`;
  }

  /**
   * Hash: the trending counts' state: `epoch` (the overall set's scale origin, epoch seconds),
   * `epoch:<set key>` (a category set's) and, per events
   * topic partition, the last offset counted (`p<partition>`), so a redelivered event is counted
   * once. Same slot as {@link trendingItems}.
   */
  trendingState(): string {
    return `${this.prefix}:trending:{trend}:state`;
  }

  /** Hash: item id → the item's compact record (`encodeItem`), for the items of one catalogue bucket. */
  catalogue(bucket: number): string {
    return `${this.prefix}:catalogue:{i${bucket}}:items`;
  }

  /** Glob matching every key of this prefix, for tests' clean-up and for operators. */
  all(): string {
    return `${this.prefix}:*`;
  }
}
