/**
 * An open-loop HTTP load generator: request i is due at t0 + i / rate (or at Poisson arrival
 * times), whether or not earlier requests have been answered. A closed loop (autocannon, even with
 * `overallRate`) sends at most one request per connection at a time, so when the server slows
 * down the send rate drops with it and the requests that were never sent never show up in the
 * latency (coordinated omission). Here every latency is measured from the request's intended send
 * time to the end of its response, so a server stall shows up in every request that was due
 * during it; the service time (from the actual send) is reported next to it.
 *
 * A 1 ms timer issues every request whose intended time has passed (a late tick sends the backlog
 * at once, it does not shift the schedule). Requests go out over node:http with a keep-alive agent
 * limited to `maxInFlight` sockets; a request due while `maxInFlight` are outstanding is not
 * queued (that would be a closed loop again) but counted as `dropped`, an error: the client could
 * not offer the load. `sendLagMs` (actual send − intended send) shows whether the generator kept
 * up with its own schedule: if it is large, the latencies include the client's own overload.
 */
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Rng } from '@seqrec/random';

export interface OpenLoopOptions {
  /** Base URL, `http://host:port`; `path()` is appended to it. */
  url: string;
  /** Requests per second offered. */
  rate: number;
  /** How long requests are scheduled for; the run then waits for the outstanding ones. */
  seconds: number;
  /** Path (and query) of the next request. */
  path: () => string;
  method?: string;
  /** Body of the next request (sent with content-length). */
  body?: () => string;
  headers?: Record<string, string>;
  /** Per-request deadline from the actual send; the request is aborted and counted as `timeout`. Default 10,000. */
  timeoutMs?: number;
  /** Most requests outstanding at once (and sockets); a request due beyond it is `dropped`. Default 1,024. */
  maxInFlight?: number;
  /** `uniform`: fixed inter-arrival 1/rate (default); `poisson`: exponential inter-arrival, seeded. */
  arrivals?: 'uniform' | 'poisson';
  /** Seed of the Poisson arrivals (default 1). */
  seed?: number | string;
  /** Called once per finished request (not for dropped ones), e.g. for a time series or a test. */
  onResponse?: (sample: OpenLoopSample) => void;
}

/** One finished request; times are performance.now() milliseconds. */
export interface OpenLoopSample {
  index: number;
  intendedAt: number;
  sentAt: number;
  endAt: number;
  /** endAt − intendedAt. */
  latencyMs: number;
  /** HTTP status code, `error` (socket error) or `timeout`. */
  status: string;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface OpenLoopResult {
  /** Requests scheduled (intended send time within `seconds`). */
  asked: number;
  sent: number;
  /** Responses received in full, any status. */
  completed: number;
  dropped: number;
  /** completed / seconds. */
  achievedRps: number;
  /** Counts by HTTP status code, plus `error` and `timeout`. */
  status: Record<string, number>;
  /** Non-2xx except 429/503, socket errors, timeouts and dropped requests. */
  errors: number;
  /** Load shed by the server: 429 + 503. */
  shed: number;
  /** Milliseconds from the intended send time to the end of the response, over completed requests. */
  latency: LatencySummary;
  /** Milliseconds from the actual send to the end of the response, over completed requests. */
  serviceLatency: { p50: number; p99: number };
  /** Milliseconds the generator sent behind its schedule, over sent requests. */
  sendLagMs: { p99: number; max: number };
  /** From the first intended send to the last request finished. */
  durationSeconds: number;
}

/** A request sent and not yet settled; `req` is dropped once it is. */
interface Outstanding {
  deadline: number;
  done: boolean;
  req?: ClientRequest | undefined;
  settle?: (outcome: string) => void;
}

/**
 * Successive intended send offsets in milliseconds from t0: `i * 1000 / rate` (computed from i,
 * so no drift), or for `poisson` a running sum of exponential gaps with mean 1000 / rate drawn
 * from the seeded generator of @seqrec/generator (same seed, same schedule).
 */
export function arrivalClock(rate: number, arrivals: 'uniform' | 'poisson' = 'uniform', seed: number | string = 1): () => number {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
  const gap = 1000 / rate;
  if (arrivals === 'poisson') {
    const rng = new Rng(seed, 7);
    let t = 0;
    return () => {
      const at = t;
      t += rng.exp(gap);
      return at;
    };
  }
  let i = 0;
  return () => i++ * gap;
}

/**
 * Nearest-rank percentile of ascending samples, as `percentile` in machine.ts but with the rank
 * computed as (p × n) / 100 so that p99.9 of 1,000 samples is the 999th, not the 1,000th
 * (99.9 / 100 × 1000 rounds up to 999.0000000000001).
 */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil((p * n) / 100) - 1))]!;
}

/** Exact percentiles (nearest rank) and mean of the samples, in the samples' unit, 2 decimals. */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const round = (x: number) => +x.toFixed(2);
  return {
    p50: round(quantile(sorted, 50)),
    p90: round(quantile(sorted, 90)),
    p99: round(quantile(sorted, 99)),
    p999: round(quantile(sorted, 99.9)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : NaN),
    mean: round(sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN),
  };
}

/**
 * Offers `rate` requests per second for `seconds` to `url` open-loop and resolves, once every
 * sent request has finished or timed out, with counts by outcome and latency percentiles measured
 * from the intended send times. Never rejects for request failures: they are counted.
 */
export function openLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const base = new URL(opts.url);
  if (base.protocol !== 'http:') throw new RangeError(`openLoop speaks http only, got ${opts.url}`);
  if (!(opts.seconds > 0)) throw new RangeError(`seconds must be positive, got ${opts.seconds}`);
  const method = opts.method ?? 'GET';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxInFlight = opts.maxInFlight ?? 1024;
  const prefix = base.pathname === '/' ? '' : base.pathname.replace(/\/$/, '');
  const hostname = base.hostname.replace(/^\[|\]$/g, '');
  const port = Number(base.port || 80);
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight, maxFreeSockets: maxInFlight });
  const next = arrivalClock(opts.rate, opts.arrivals, opts.seed);
  const endMs = opts.seconds * 1000;

  const status: Record<string, number> = {};
  const latency: number[] = [];
  const service: number[] = [];
  const lag: number[] = [];
  let asked = 0;
  let sent = 0;
  let dropped = 0;
  let inFlight = 0;
  let scheduling = true;
  let due = next();

  return new Promise<OpenLoopResult>((resolve) => {
    const t0 = performance.now();

    const finish = () => {
      clearInterval(interval);
      agent.destroy();
      const count = (pred: (code: number) => boolean) =>
        Object.entries(status).reduce((n, [k, v]) => (pred(Number(k)) ? n + v : n), 0);
      const shed = count((c) => c === 429 || c === 503);
      const badStatus = count((c) => Number.isFinite(c) && (c < 200 || c >= 300) && c !== 429 && c !== 503);
      const svc = summarize(service);
      const lg = summarize(lag);
      resolve({
        asked,
        sent,
        completed: latency.length,
        dropped,
        achievedRps: +(latency.length / opts.seconds).toFixed(1),
        status,
        errors: badStatus + (status.error ?? 0) + (status.timeout ?? 0) + dropped,
        shed,
        latency: summarize(latency),
        serviceLatency: { p50: svc.p50, p99: svc.p99 },
        sendLagMs: { p99: lg.p99, max: lg.max },
        durationSeconds: +((performance.now() - t0) / 1000).toFixed(3),
      });
    };

    // Requests in flight in send order. The timeout is the same for all, so deadlines are in
    // the same order and the 1 ms tick aborts expired ones from the head: no timer per request.
    const pending: Outstanding[] = [];
    let head = 0;

    const send = (index: number, intendedAt: number) => {
      const sentAt = performance.now();
      lag.push(sentAt - intendedAt);
      sent++;
      inFlight++;
      const entry: Outstanding = { deadline: sentAt + timeoutMs, done: false };
      const settle = (outcome: string, res?: IncomingMessage) => {
        if (entry.done) return;
        entry.done = true;
        entry.req = undefined;
        const endAt = performance.now();
        inFlight--;
        status[outcome] = (status[outcome] ?? 0) + 1;
        if (res) {
          latency.push(endAt - intendedAt);
          service.push(endAt - sentAt);
        }
        opts.onResponse?.({ index, intendedAt, sentAt, endAt, latencyMs: endAt - intendedAt, status: outcome });
        if (!scheduling && inFlight === 0) finish();
      };
      entry.settle = settle;
      const body = opts.body?.();
      const headers = body === undefined ? opts.headers : { ...opts.headers, 'content-length': Buffer.byteLength(body) };
      const req = request({ agent, hostname, port, method, path: prefix + opts.path(), headers }, (res) => {
        res.on('error', () => settle('error'));
        res.on('end', () => settle(String(res.statusCode), res));
        res.resume();
      });
      req.on('error', () => settle('error'));
      entry.req = req;
      pending.push(entry);
      req.end(body);
    };

    const expire = (now: number) => {
      while (head < pending.length && (pending[head]!.done || pending[head]!.deadline <= now)) {
        const entry = pending[head++]!;
        if (entry.done) continue;
        const req = entry.req;
        entry.settle?.('timeout');
        req?.destroy();
      }
      if (head > 4096 && head * 2 > pending.length) {
        pending.splice(0, head);
        head = 0;
      }
    };

    const tick = () => {
      const nowAbs = performance.now();
      const now = nowAbs - t0;
      while (scheduling && due < endMs && due <= now) {
        const index = asked++;
        if (inFlight >= maxInFlight) dropped++;
        else send(index, t0 + due);
        due = next();
      }
      expire(nowAbs);
      if (scheduling && due >= endMs) {
        scheduling = false;
        if (inFlight === 0) finish();
      }
    };
    const interval = setInterval(tick, 1);
    tick();
  });
}
