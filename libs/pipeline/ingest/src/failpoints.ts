/**
 * Fault injection at named points of the ingest path, for the tests that prove the HTTP protocol
 * (test/src/ingest-retry.spec.ts): `INGEST_FAILPOINTS=raw.after-claim=throw*1,http.after-publish=kill`.
 * Never set in production; with the variable empty every {@link Failpoints.hit} is one boolean test.
 *
 * Points: `http.after-publish` (the raw topic acknowledged the request's events, nothing claimed or
 * answered yet), `http.before-answer` (claims taken, the answer not sent), `http.partial-publish`
 * (only the first half of the request's messages is published, then the publish fails),
 * `raw.after-claim` (the raw consumer claimed a batch's event ids, nothing published or committed).
 * Actions: `throw` (an error at that point), `kill` (SIGKILL of the process), `delay:<ms>` (waits);
 * `*<n>` limits the action to its first n hits.
 */
import { SeqrecError } from '@seqrec/contracts';
export const FAILPOINT_NAMES = ['http.after-publish', 'http.before-answer', 'http.partial-publish', 'raw.after-claim'] as const;
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

type Action = { kind: 'throw' } | { kind: 'kill' } | { kind: 'delay'; ms: number };

export class FailpointError extends SeqrecError {
  /** Not retriable: not a dependency failing, so the bus's poison handling may count it, like any bug. */
  constructor(readonly point: FailpointName) {
    super(`failpoint ${point}`, { retriable: false, context: { point } });
    this.name = 'FailpointError';
  }
}

export class Failpoints {
  private readonly points = new Map<FailpointName, { action: Action; left: number }>();

  /**
   * Parses `name=action[*count],...`; throws a RangeError naming what is wrong.
   * @param log told of every action taken (tests read it in the service's log)
   */
  constructor(
    spec = '',
    private readonly log: (message: string) => void = () => undefined,
  ) {
    for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([a-z.-]+)=(throw|kill|delay:(\d+))(?:\*(\d+))?$/.exec(part);
      if (!m) throw new RangeError(`failpoint "${part}": expected name=throw|kill|delay:<ms>[*count]`);
      const name = m[1] as FailpointName;
      if (!FAILPOINT_NAMES.includes(name)) throw new RangeError(`failpoint "${name}": unknown, one of ${FAILPOINT_NAMES.join(', ')}`);
      const action: Action = m[2] === 'throw' ? { kind: 'throw' } : m[2] === 'kill' ? { kind: 'kill' } : { kind: 'delay', ms: Number(m[3]) };
      this.points.set(name, { action, left: m[4] === undefined ? Infinity : Number(m[4]) });
    }
  }

  get enabled(): boolean {
    return this.points.size > 0;
  }

  /** Whether `name` fires now (counts the hit). For points whose effect is the caller's (partial publish). */
  fires(name: FailpointName): boolean {
    const p = this.points.get(name);
    if (!p || p.left <= 0) return false;
    p.left--;
    this.log(`failpoint ${name} fired`);
    return true;
  }

  /** Applies the action configured for `name`, if any. */
  async hit(name: FailpointName): Promise<void> {
    if (this.points.size === 0) return;
    const p = this.points.get(name);
    if (!p || p.left <= 0) return;
    p.left--;
    const a = p.action;
    this.log(`failpoint ${name}: ${a.kind === 'delay' ? `delay ${a.ms} ms` : a.kind}`);
    if (a.kind === 'throw') throw new FailpointError(name);
    if (a.kind === 'kill') {
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => undefined); // never resumes: the signal is on its way
    }
    if (a.kind === 'delay') await new Promise((r) => setTimeout(r, a.ms));
  }
}
