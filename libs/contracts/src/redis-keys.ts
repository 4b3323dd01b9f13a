/**
 * The only place that builds Redis keys. Layout: `<prefix>:<entity>:{<id>}:<kind>`.
 *
 * The id is wrapped in a hash tag (`{...}`) so that everything a single Lua script touches for one
 * entity lives in one Redis Cluster slot, and different entities spread over all slots.
 */
export class RedisKeys {
  /** @param prefix namespace of one deployment (or one test), e.g. `seqrec` or `test-<uuid>`. */
  constructor(readonly prefix: string = 'seqrec') {
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) {
      throw new RangeError(`Redis key prefix must match [A-Za-z0-9_.-]+, got "${prefix}"`);
    }
  }

  /** String: the user's compact behaviour window (see `@seqrec/sequence` codec). */
  userSequence(userId: string): string {
    return `${this.prefix}:user:{${userId}}:seq`;
  }

  /** String with TTL: claim on a producer event id, used to drop producer retries. */
  eventSeen(eventId: string): string {
    return `${this.prefix}:event:{${eventId}}:seen`;
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

  /** Glob matching every key of this prefix, for tests' clean-up and for operators. */
  all(): string {
    return `${this.prefix}:*`;
  }
}
