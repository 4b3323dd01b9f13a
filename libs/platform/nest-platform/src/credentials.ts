import { createHash, timingSafeEqual } from 'node:crypto';
import { SeqrecError } from '@seqrec/contracts';

/**
 * Who may call a route: `producer` (writes events: the ingester's POST /v1/events), `client`
 * (scorer reads and other model reads that reveal no user), `admin` (training, per-user reads such
 * as a user's window or vector, anything else).
 */
export const ROLES = ['producer', 'client', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A configured credential. `id` is public (metric label, logs): 8 hex digits of its SHA-256. */
export interface Credential {
  readonly id: string;
  readonly roles: ReadonlySet<Role>;
}

interface Entry extends Credential {
  readonly digest: Buffer;
  readonly roles: Set<Role>;
}

/** Thrown for a credential list that cannot be read; `variable` names the setting. */
export class CredentialConfigError extends SeqrecError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`, { retriable: false, context: { variable } });
    this.name = 'CredentialConfigError';
  }
}

const PREHASHED = /^sha256:([0-9a-f]{64})$/i;

/** SHA-256 of a presented or configured secret: 32 bytes whatever its length. */
export function credentialDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/**
 * The API keys / bearer tokens of every role, kept only as SHA-256 digests.
 *
 * A list is comma-separated; an entry is the secret itself, or `sha256:<64 hex digits>` (its
 * digest, so the secret store need not hold the key). The same secret may appear in several roles.
 *
 * {@link match} hashes the presented secret and compares the digest with every configured digest
 * with `timingSafeEqual`, without stopping at the first hit: the time taken depends neither on how
 * much of a key matched nor on its length, nor on which entry matched.
 */
export class CredentialStore {
  private readonly entries: Entry[] = [];

  /**
   * @param lists per role, the raw lists and the variable(s) they came from (for errors)
   * @throws CredentialConfigError for a malformed `sha256:` entry
   */
  constructor(lists: Partial<Record<Role, { value: string; variable: string }[]>>) {
    const byDigest = new Map<string, Entry>();
    for (const role of ROLES) {
      for (const { value, variable } of lists[role] ?? []) {
        for (const raw of value.split(',')) {
          const secret = raw.trim();
          if (secret === '') continue;
          let digest: Buffer;
          if (/^sha256:/i.test(secret)) {
            const m = PREHASHED.exec(secret);
            if (!m) throw new CredentialConfigError(variable, 'a sha256: entry needs exactly 64 hex digits');
            digest = Buffer.from(m[1]!, 'hex');
          } else {
            digest = credentialDigest(secret);
          }
          const hex = digest.toString('hex');
          let entry = byDigest.get(hex);
          if (!entry) {
            entry = { digest, id: hex.slice(0, 8), roles: new Set() };
            byDigest.set(hex, entry);
            this.entries.push(entry);
          }
          entry.roles.add(role);
        }
      }
    }
  }

  /** Whether any credential is configured for `role`. */
  has(role: Role): boolean {
    return this.entries.some((e) => e.roles.has(role));
  }

  /** Credentials configured per role. */
  count(role: Role): number {
    return this.entries.filter((e) => e.roles.has(role)).length;
  }

  /** The configured credential equal to `presented`, or null (constant time, see the class). */
  match(presented: string): Credential | null {
    const digest = credentialDigest(presented);
    let found: Entry | null = null;
    for (const e of this.entries) {
      // every entry is compared, hit or not
      const equal = timingSafeEqual(e.digest, digest);
      if (equal && found === null) found = e;
    }
    return found;
  }
}
