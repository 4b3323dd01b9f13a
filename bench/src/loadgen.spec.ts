import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { arrivalClock, openLoop, summarize, type OpenLoopSample } from './loadgen';

/**
 * A local server that answers after `delayMs`; requests arriving in [stallFrom, stallTo)
 * (performance.now() ms) are held until stallTo first. `/shed` answers 429, `/fail` 500.
 */
interface TestServer {
  url: string;
  received: number;
  maxConcurrent: number;
  delayMs: number;
  stallFrom: number;
  stallTo: number;
  close: () => Promise<void>;
}

async function startServer(delayMs: number): Promise<TestServer> {
  let concurrent = 0;
  const state = { received: 0, maxConcurrent: 0, delayMs, stallFrom: Infinity, stallTo: -Infinity };
  const server: Server = createServer((req, res) => {
    state.received++;
    concurrent++;
    state.maxConcurrent = Math.max(state.maxConcurrent, concurrent);
    const now = performance.now();
    const hold = now >= state.stallFrom && now < state.stallTo ? state.stallTo - now : 0;
    setTimeout(() => {
      concurrent--;
      res.statusCode = req.url === '/shed' ? 429 : req.url === '/fail' ? 500 : 200;
      res.end('{"ok":true}');
    }, hold + state.delayMs);
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

describe('arrivalClock', () => {
  it('spaces uniform arrivals exactly 1/rate apart from 0', () => {
    const next = arrivalClock(500);
    const t = Array.from({ length: 1001 }, () => next());
    assert.equal(t[0], 0);
    assert.equal(t[1], 2);
    assert.equal(t[1000], 2000);
  });

  it('draws the same Poisson schedule for the same seed, with mean gap 1/rate', () => {
    const a = arrivalClock(500, 'poisson', 42);
    const b = arrivalClock(500, 'poisson', 42);
    const ta = Array.from({ length: 10_000 }, () => a());
    const tb = Array.from({ length: 10_000 }, () => b());
    assert.deepEqual(ta, tb);
    const meanGap = ta[ta.length - 1]! / (ta.length - 1);
    assert.ok(Math.abs(meanGap - 2) < 0.1, `mean gap ${meanGap} ms`);
  });
});

describe('summarize', () => {
  it('takes exact nearest-rank percentiles', () => {
    const s = summarize(Array.from({ length: 1000 }, (_, i) => 1000 - i));
    assert.deepEqual(s, { p50: 500, p90: 900, p99: 990, p999: 999, max: 1000, mean: 500.5 });
  });
});

describe('openLoop', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });
  const server = async (delayMs: number) => {
    const s = await startServer(delayMs);
    servers.push(s);
    return s;
  };

  it('sends rate × seconds requests on schedule and measures at least the server delay', async () => {
    const srv = await server(20);
    const res = await openLoop({ url: srv.url, rate: 500, seconds: 2, path: () => '/' });
    assert.equal(res.asked, 1000);
    assert.equal(res.dropped, 0);
    assert.ok(Math.abs(res.sent - 1000) <= 20, `sent ${res.sent}`);
    assert.equal(srv.received, res.sent);
    assert.equal(res.completed, res.sent);
    assert.deepEqual(res.status, { 200: res.completed });
    assert.equal(res.errors, 0);
    assert.equal(res.shed, 0);
    assert.ok(Math.abs(res.achievedRps - 500) <= 10, `achieved ${res.achievedRps} rps`);
    // Timers may fire up to ~1 ms early against performance.now().
    assert.ok(res.latency.p50 >= 19, `p50 ${res.latency.p50} ms`);
    assert.ok(res.serviceLatency.p50 >= 19, `service p50 ${res.serviceLatency.p50} ms`);
    assert.ok(res.latency.p50 < 1000, `p50 ${res.latency.p50} ms`);
    // The last request is due at 1.998 s: the run takes ~2 s plus one server delay.
    assert.ok(res.durationSeconds >= 2 && res.durationSeconds < 5, `took ${res.durationSeconds} s`);
  });

  it('charges a server stall to every request that was due during it', async () => {
    const srv = await server(2);
    const start = performance.now();
    srv.stallFrom = start + 800;
    srv.stallTo = start + 1100;
    const samples: OpenLoopSample[] = [];
    const res = await openLoop({ url: srv.url, rate: 500, seconds: 2, path: () => '/', onResponse: (s) => samples.push(s) });
    assert.equal(res.errors, 0);
    assert.equal(samples.length, res.sent);
    assert.ok(res.latency.p99 >= 250, `p99 ${res.latency.p99} ms`);
    // Every request due in the stall finishes no earlier than the stall's end, and its latency
    // says so. A closed loop sends most of these only after the stall (and measures from then).
    const during = samples.filter((s) => s.intendedAt >= srv.stallFrom && s.intendedAt < srv.stallTo - 5);
    assert.ok(during.length >= 120, `${during.length} requests due during the stall`);
    for (const s of during) {
      assert.ok(s.latencyMs >= srv.stallTo - s.intendedAt - 5, `request ${s.index} due ${(s.intendedAt - start).toFixed(1)} ms: ${s.latencyMs.toFixed(1)} ms`);
    }
    const slow = samples.filter((s) => s.latencyMs >= 100).length;
    assert.ok(slow >= 80, `${slow} requests ≥ 100 ms`);
  });

  it('charges its own late sends to the latency (measures from the intended send time)', async () => {
    const srv = await server(0);
    const block = { from: Infinity, to: -Infinity };
    // Block this process (client and server) for 300 ms: requests due meanwhile go out late.
    const timer = setTimeout(() => {
      block.from = performance.now();
      while (performance.now() < block.from + 300);
      block.to = performance.now();
    }, 800);
    const samples: OpenLoopSample[] = [];
    const res = await openLoop({ url: srv.url, rate: 500, seconds: 2, path: () => '/', onResponse: (s) => samples.push(s) });
    clearTimeout(timer);
    assert.equal(res.errors, 0);
    assert.ok(res.sendLagMs.max >= 250, `send lag max ${res.sendLagMs.max} ms`);
    assert.ok(res.latency.p99 >= 250, `p99 ${res.latency.p99} ms`);
    const during = samples.filter((s) => s.intendedAt >= block.from && s.intendedAt < block.to - 5);
    assert.ok(during.length >= 120, `${during.length} requests due during the block`);
    for (const s of during) {
      assert.ok(s.sentAt >= block.to, `request ${s.index} sent during the block`);
      assert.ok(s.latencyMs >= block.to - s.intendedAt, `request ${s.index}: ${s.latencyMs.toFixed(1)} ms`);
    }
  });

  it('counts requests due beyond maxInFlight as dropped errors instead of queueing them', async () => {
    const srv = await server(200);
    const res = await openLoop({ url: srv.url, rate: 500, seconds: 1, path: () => '/', maxInFlight: 10 });
    assert.equal(res.asked, 500);
    assert.equal(res.sent + res.dropped, res.asked);
    assert.ok(srv.maxConcurrent <= 10, `server saw ${srv.maxConcurrent} at once`);
    // At most 10 per 200 ms can be outstanding: ≤ ~60 of 500 go out.
    assert.ok(res.dropped >= 400, `dropped ${res.dropped}`);
    assert.equal(res.completed, res.sent);
    assert.equal(res.errors, res.dropped);
  });

  it('aborts requests at the timeout and counts them', async () => {
    const srv = await server(400);
    const res = await openLoop({ url: srv.url, rate: 20, seconds: 0.5, path: () => '/', timeoutMs: 100 });
    assert.equal(res.asked, 10);
    assert.deepEqual(res.status, { timeout: 10 });
    assert.equal(res.completed, 0);
    assert.equal(res.errors, 10);
    assert.ok(Number.isNaN(res.latency.p50));
  });

  it('counts 429 as shed, other non-2xx as errors', async () => {
    const srv = await server(0);
    const paths = ['/', '/shed', '/fail'];
    let i = 0;
    const res = await openLoop({ url: srv.url, rate: 100, seconds: 0.3, path: () => paths[i++ % 3]!, arrivals: 'poisson', seed: 3 });
    assert.equal(res.completed, res.asked);
    assert.equal(res.shed, res.status['429']);
    assert.equal(res.errors, res.status['500']);
    assert.equal((res.status['200'] ?? 0) + res.shed + res.errors, res.asked);
    assert.ok(res.shed > 0 && res.errors > 0);
  });
});
