/**
 * A client loop against a service that is being killed: it records every answer's status, and
 * requests that got no answer at all (the process was gone or died mid-request) apart from them.
 */
import { sleep } from './config';

export interface ProbeRequest {
  url: string;
  init?: RequestInit;
  /** Looks at a 200 answer's body (e.g. which model version answered). */
  onBody?: (body: unknown) => void;
}

export class Prober {
  /** Answers by status, and `no answer` for requests that got none. */
  readonly statuses = new Map<string, number>();
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly next: () => ProbeRequest,
    private readonly o: { concurrency: number; pauseMs: number; timeoutMs?: number },
  ) {}

  start(): this {
    for (let i = 0; i < this.o.concurrency; i++) this.loops.push(this.loop());
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private count(k: string): void {
    this.statuses.set(k, (this.statuses.get(k) ?? 0) + 1);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const r = this.next();
      try {
        const res = await fetch(r.url, { ...r.init, signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000) });
        this.count(String(res.status));
        if (res.status === 200 && r.onBody) r.onBody(await res.json());
        else await res.arrayBuffer();
      } catch (err) {
        this.count((err as Error).name === 'TimeoutError' ? 'timeout' : 'no answer');
        await sleep(50);
      }
      await sleep(this.o.pauseMs);
    }
  }

  /** Answers other than 2xx and 503 (timeouts included: a request held 10 s is not an answer either). */
  unexpected(): Array<[string, number]> {
    return [...this.statuses].filter(([k]) => k !== 'no answer' && k !== '503' && !/^2\d\d$/.test(k));
  }

  describe(): string {
    return [...this.statuses].sort().map(([k, v]) => `${k}: ${v}`).join(', ');
  }

  answered(): number {
    return [...this.statuses].filter(([k]) => /^\d+$/.test(k)).reduce((a, [, v]) => a + v, 0);
  }
}
