import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTO_BUSY, AUTO_RETURN, ExactTopKRouter } from './exact-topk-router';

interface Costs {
  /** int8: loop ms per query. */
  int8: number;
  /** matMul: loop ms per batch and per query. */
  perBatch: number;
  perQuery: number;
}

/**
 * One 100 ms window with `queries` exact queries on the router's current path and the rest of the
 * loop busy for `restMs`; on matMul the queries go in batches of the sizes in `batches` (cycled).
 */
function window(r: ExactTopKRouter, at: number, queries: number, cost: Costs, restMs: number, batches: number[] = [8, 16, 32]): void {
  let spent = 0;
  if (r.path === 'int8') {
    for (let i = 0; i < queries; i++) r.recordInt8(cost.int8);
    spent = queries * cost.int8;
  } else {
    for (let left = queries, i = 0; left > 0; i++) {
      const n = Math.min(batches[i % batches.length]!, left);
      const ms = cost.perBatch + cost.perQuery * n;
      r.recordMatmul(ms, n);
      spent += ms;
      left -= n;
    }
  }
  r.closeWindow(Math.min(1, (restMs + spent) / 100), 100, at);
}

const run = (r: ExactTopKRouter, from: number, windows: number, queries: number, cost: Costs, restMs: number, batches?: number[]): string[] => {
  const paths: string[] = [];
  for (let t = from; t < from + windows; t++) {
    window(r, t * 100, queries, cost, restMs, batches);
    paths.push(r.path);
  }
  return paths;
};

describe(ExactTopKRouter.name, () => {
  it('stays on int8 while int8 keeps up, even with the loop fairly busy', () => {
    const r = new ExactTopKRouter(0);
    run(r, 0, 20, 100, { int8: 0.4, perBatch: 3, perQuery: 0.1 }, 45); // 1,000/s: 40 + 45 ms of 100
    assert.equal(r.path, 'int8');
    assert.ok(Math.abs(r.predicted.int8! - 0.85) < 1e-9, `predicted ${r.predicted.int8}`);
  });

  it('probes matMul when int8 cannot keep up, fits its cost, and keeps it when it is cheaper', () => {
    const r = new ExactTopKRouter(0);
    const cost = { int8: 0.4, perBatch: 2, perQuery: 0.1 };
    const paths = run(r, 0, 20, 200, cost, 30); // 2,000/s; int8: 80 + 30 ms > the window
    assert.equal(paths[0], 'matmul', 'busy, no fit: probe');
    assert.deepEqual(paths.slice(1), Array(19).fill('matmul'));
    const fit = r.matmulCost()!;
    assert.ok(Math.abs(fit.perQuery - 0.1) < 1e-6 && Math.abs(fit.perBatch - 2) < 1e-6, JSON.stringify(fit));
    assert.ok(r.predicted.matmul! < r.predicted.int8!, JSON.stringify(r.predicted));
  });

  it('returns to int8 when the rate falls, although the back-to-back batches keep the loop busy', () => {
    // The case the first `auto` got wrong: under matMul the loop reads busy at any rate.
    const r = new ExactTopKRouter(0);
    const cost = { int8: 0.4, perBatch: 2, perQuery: 0.1 };
    run(r, 0, 10, 200, cost, 30);
    assert.equal(r.path, 'matmul');
    window(r, 1_000, 50, cost, 30, [1, 2]); // 500/s: small batches back to back, 71 + 30 ms
    assert.ok(r.utilization >= AUTO_BUSY, `the loop reads ${r.utilization}`);
    assert.ok(r.predicted.int8! < AUTO_RETURN, JSON.stringify(r.predicted));
    assert.equal(r.path, 'int8');
  });

  it('backs off after a probe finds matMul costlier: fewer and fewer probes', () => {
    const r = new ExactTopKRouter(0);
    const cost = { int8: 0.4, perBatch: 0.5, perQuery: 0.6 }; // matMul never cheaper
    const paths = run(r, 0, 600, 250, cost, 10); // 2,500/s: one minute over capacity
    const probes = paths.filter((p, i) => p === 'matmul' && paths[i - 1] !== 'matmul').length;
    // at 0 s, then 5, 10 and 20 s after each return: 4 in the minute, each 3 windows long
    assert.equal(probes, 4, paths.map((p) => (p === 'matmul' ? 'M' : '.')).join(''));
    assert.equal(paths.filter((p) => p === 'matmul').length, 4 * 3);
  });

  it('does not leave int8 for a loop that is busy with something else', () => {
    const r = new ExactTopKRouter(0);
    run(r, 0, 5, 0, { int8: 0.4, perBatch: 1, perQuery: 0.1 }, 99);
    assert.equal(r.path, 'int8');
  });

  it('fits per-batch and per-query costs, and charges everything per query when batch sizes do not vary', () => {
    const r = new ExactTopKRouter(0);
    assert.equal(r.matmulCost(), null);
    for (let i = 0; i < 10; i++) r.recordMatmul(4 + 0.5 * 8, 8);
    assert.deepEqual(r.matmulCost(), { perBatch: 0, perQuery: 1 });
    for (let b = 1; b <= 40; b++) r.recordMatmul(4 + 0.5 * b, b);
    const fit = r.matmulCost()!;
    assert.ok(Math.abs(fit.perBatch - 4) < 1e-6 && Math.abs(fit.perQuery - 0.5) < 1e-6, JSON.stringify(fit));
  });

  it('reads the real event loop', async () => {
    const r = new ExactTopKRouter(0);
    const tick = () => new Promise((res) => setImmediate(res));
    await tick();
    r.sample();
    await tick();
    const until = performance.now() + 120;
    while (performance.now() < until);
    await tick();
    r.sample();
    assert.ok(r.utilization > 0.8, `a spinning loop reads ${r.utilization}`);
    await new Promise((res) => setTimeout(res, 120));
    r.sample();
    assert.ok(r.utilization < 0.5, `an idle loop reads ${r.utilization}`);
  });
});
