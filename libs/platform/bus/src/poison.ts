import { SeqrecError } from '@seqrec/contracts';
import type { ConsumedMessage, OutboundMessage } from './bus';

/**
 * Whether a handler error looks like the infrastructure failing (a dependency down or slow)
 * rather than the message: such errors are retried for as long as they last and never make a
 * message a dead letter. A seqrec error says so itself (its class's `retriable` flag), and so may
 * another library's error (a `retriable` property); only the others are guessed from their code,
 * name and message.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof SeqrecError) return err.retriable;
  const e = err as { retriable?: boolean; code?: unknown; name?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.retriable === true) return true;
  if (e.retriable === false) return false;
  if (typeof e.code === 'string' && /^(ECONN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|NR_CLOSED)/.test(e.code)) return true;
  return /connection|connect|closed|timed? ?out|unavailable|not ready|MaxRetriesPerRequest|CLUSTERDOWN|LOADING|TRYAGAIN|READONLY/i.test(`${e.name ?? ''} ${e.message ?? ''}`);
}

/** What to do with a partition's next batch. */
export interface PoisonPlan {
  /** Messages to hand to the handler at most (1 while isolating a failing batch). */
  limit: number;
}

/**
 * Bounded retries for one subscription. A batch that failed `maxAttempts` times (with errors that
 * are not {@link isTransient}) is retried one message at a time; a single message that fails
 * `maxAttempts` times is a poison message: it becomes a dead letter and the partition moves on.
 */
export class PoisonTracker {
  private readonly failing = new Map<string, { from: number; until: number; attempts: number; single?: { offset: number; attempts: number } }>();

  constructor(
    readonly maxAttempts: number,
    private readonly deadLetter?: (message: ConsumedMessage, error: unknown, attempts: number) => OutboundMessage[],
  ) {}

  get enabled(): boolean {
    return this.deadLetter !== undefined && this.maxAttempts > 0;
  }

  /** The largest batch to hand over starting at `first` (an offset of `topic`/`partition`). */
  limit(topic: string, partition: number, first: number, max: number): number {
    const f = this.failing.get(`${topic}:${partition}`);
    if (!f) return max;
    if (first >= f.until || first < f.from) {
      this.failing.delete(`${topic}:${partition}`);
      return max;
    }
    return f.attempts >= this.maxAttempts ? 1 : max;
  }

  /** The batch succeeded. */
  succeeded(topic: string, partition: number, last: number): void {
    const key = `${topic}:${partition}`;
    const f = this.failing.get(key);
    if (f && last + 1 >= f.until) this.failing.delete(key);
  }

  /**
   * The batch `messages` failed with `err`. Returns the dead letters to publish in place of the
   * batch when it was a single message that has now failed too often; otherwise undefined (retry).
   */
  failed(topic: string, partition: number, messages: ConsumedMessage[], err: unknown): OutboundMessage[] | undefined {
    if (!this.enabled || messages.length === 0 || isTransient(err)) return undefined;
    const key = `${topic}:${partition}`;
    const first = Number(messages[0]!.offset);
    const last = Number(messages[messages.length - 1]!.offset);
    let f = this.failing.get(key);
    if (!f || first < f.from || first >= f.until) {
      f = { from: first, until: last + 1, attempts: 0 };
      this.failing.set(key, f);
    }
    if (messages.length > 1) {
      f.attempts++;
      return undefined;
    }
    const single = f.single && f.single.offset === first ? f.single : (f.single = { offset: first, attempts: 0 });
    single.attempts++;
    if (single.attempts < this.maxAttempts) return undefined;
    f.single = undefined;
    if (first + 1 >= f.until) this.failing.delete(key);
    return this.deadLetter!(messages[0]!, err, single.attempts);
  }
}
