/**
 * The one base of seqrec's own errors (STYLE.md §6): every error says whether retrying can help
 * (`retriable`, kafkajs' convention: the class decides, not the catcher), carries structured
 * context for the log line (`broker`, `topic`, `partition`, `entityId`, ...) and sets `name`.
 * Programming errors (`TypeError`, `RangeError`, ...) stay what they are and are never retried.
 *
 * It lives here, in the dependency-free contracts library, because every library may depend on
 * it: the bus's poison handling, the HTTP layers and the Kafka handlers read the flag of errors
 * thrown anywhere below them.
 */
export interface SeqrecErrorOptions {
  /** True when the same call may succeed later (a dependency down or slow, a conflict, a full queue). */
  retriable: boolean;
  /** Structured context for logs. */
  context?: Record<string, unknown>;
  cause?: unknown;
}

export class SeqrecError extends Error {
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;

  constructor(message: string, options: SeqrecErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable;
    this.context = options.context ?? {};
  }
}
