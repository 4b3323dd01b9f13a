import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTO_BUSY, ExactTopKRouter } from './exact-topk-router';

/** One 100 ms window: `queries` exact queries on the router's current path, the rest of the loop busy for `restMs`. */
function window(r: ExactTopKRouter, at: number, queries: number, cost: { int8: number; matmul: number }, restMs: number, batch = 16): void {
  let spent = 0;
  if (r.path === 'int8') {
    for (let i = 0; i < queries; i++) r.recordInt8(cost.int8);
    spent = queries * cost.int8;
  } else {
    for (let left = queries; left > 0; left -= batch) {
      const n = Math.min(batch, left);
      r.recordMatmul(cost.matmul * n, n);
      spent += cost.matmul * n;
    }
  }
  r.closeWindow(Math.min(1, (restMs + spent) / 100), 100, at);
}

describe(ExactTopKRouter.name, () => {
  it('stays on int8 while int8 leaves the loop room', () => {
    const r = new ExactTopKRouter(0);
    for (let t = 0; t < 20; t++) window(r, t * 100, 50, { int8: 0.4, matmul: 0.2 }, 30); // 500/s: 20 + 30 ms of 100
    assert.equal(r.path, 'int8');
    assert.ok(Math.abs(r.predicted.int8! - 0.5) < 1e-9, `predicted ${r.predicted.int8}`);
  });

  it('takes matMul when int8 would fill the loop and matMul costs less per query, and keeps it', () => {
    const r = new ExactTopKRouter(0);
    const cost = { int8: 0.4, matmul: 0.15 };
    window(r, 0, 200, cost, 30); // 2,000/s on int8: 80 + 30 ms > the window
    assert.equal(r.path, 'matmul', 'busy, matMul cost unknown: probe it');
    for (let t = 1; t < 20; t++) window(r, t * 100, 200, cost, 30);
    assert.equal(r.path, 'matmul');
    assert.ok(r.predicted.matmul! < AUTO_BUSY && r.predicted.int8! >= AUTO_BUSY, JSON.stringify(r.predicted));
  });

  it('returns to int8 when the rate falls, although the loop measured under matMul is busy', () => {
    // The case the first `auto` got wrong: at 500/s a small matMul batch costs the loop more per
    // query than int8, so the loop reads busy under matMul: int8's prediction is what counts.
    const r = new ExactTopKRouter(0);
    const cost = { int8: 0.4, matmul: 1.2 };
    window(r, 0, 200, cost, 30);
    assert.equal(r.path, 'matmul');
    window(r, 100, 50, cost, 30, 2); // 60 + 30 ms: reads 0.9, above AUTO_BUSY
    assert.ok(r.utilization > AUTO_BUSY);
    assert.equal(r.path, 'int8', JSON.stringify(r.predicted));
  });

  it('does not probe matMul again for REPROBE_MS once it measured it more costly, then does', () => {
    const r = new ExactTopKRouter(0);
    const cost = { int8: 0.4, matmul: 0.6 }; // matMul never cheaper here
    window(r, 0, 250, cost, 10);
    assert.equal(r.path, 'matmul', 'the probe');
    window(r, 100, 250, cost, 10);
    assert.equal(r.path, 'int8', 'measured costlier: back');
    const paths: string[] = [];
    for (let t = 2; t < 62; t++) {
      window(r, t * 100, 250, cost, 10);
      paths.push(r.path);
    }
    assert.equal(paths.filter((p) => p === 'matmul').length, 1, `one probe after 5 s: ${paths.join(',')}`);
  });

  it('does not leave int8 for a loop that is busy with something else', () => {
    const r = new ExactTopKRouter(0);
    for (let t = 0; t < 5; t++) window(r, t * 100, 0, { int8: 0.4, matmul: 0.1 }, 95);
    assert.equal(r.path, 'int8');
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
    assert.ok(r.utilization > AUTO_BUSY, `a spinning loop reads ${r.utilization}`);
    await new Promise((res) => setTimeout(res, 120));
    r.sample();
    assert.ok(r.utilization < 0.5, `an idle loop reads ${r.utilization}`);
  });
});
