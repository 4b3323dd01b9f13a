import { createHmac } from 'node:crypto';

/** Shortest accepted PRIVACY_HMAC_KEY (characters). */
export const MIN_HMAC_KEY_LENGTH = 32;

/**
 * Pseudonymisation of user ids at the edge (PRIVACY_PSEUDONYMIZE, docs/privacy.md): a user id
 * becomes `p1.` + base64url(HMAC-SHA-256(key, id)) (47 characters) before anything seqrec writes,
 * and every lookup by user id (the scorer's, the embedding service's, the builder's) maps the raw
 * id the same way, so the same shopper finds the same state. Without the key the pseudonym cannot
 * be reversed or recomputed; with pseudonymisation off the id passes through unchanged.
 *
 * An id that is already a pseudonym of this format is kept (a retried deletion, or a producer that
 * pseudonymises itself with the same key), so applying it twice is harmless.
 */
export class Pseudonymizer {
  private readonly key: Buffer | null;

  /** @param key the HMAC key; null: pseudonymisation off (ids pass through) */
  constructor(key: string | null) {
    if (key !== null && key.length < MIN_HMAC_KEY_LENGTH) throw new RangeError(`the pseudonymisation key has ${key.length} characters, at least ${MIN_HMAC_KEY_LENGTH} are needed`);
    this.key = key === null ? null : Buffer.from(key, 'utf8');
  }

  get enabled(): boolean {
    return this.key !== null;
  }

  /** The pseudonym of a user id (the id itself when pseudonymisation is off). */
  userId(id: string): string {
    if (this.key === null || PSEUDONYM.test(id)) return id;
    return `p1.${createHmac('sha256', this.key).update(id, 'utf8').digest('base64url')}`;
  }
}

const PSEUDONYM = /^p1\.[A-Za-z0-9_-]{43}$/;
