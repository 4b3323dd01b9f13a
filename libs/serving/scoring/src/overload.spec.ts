import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OverloadDetector } from './overload';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(OverloadDetector.name, () => {
  it('is overloaded after a window in which the event loop stalled past the limit, and recovers', async () => {
    const sut = new OverloadDetector(50, 1_000_000); // windows closed by hand
    try {
      await sleep(30);
      sut.sample();
      assert.equal(sut.overloaded, false, `idle: p99 delay ${sut.lastDelayMs} ms`);
      busy(200); // a 200 ms stall: the loop's delay histogram records it
      await sleep(20);
      sut.sample();
      assert.equal(sut.overloaded, true, `after a stall: p99 delay ${sut.lastDelayMs} ms`);
      assert.ok(sut.lastDelayMs > 50);
      await sleep(60);
      sut.sample();
      assert.equal(sut.overloaded, false, `recovered: p99 delay ${sut.lastDelayMs} ms`);
    } finally {
      sut.close();
    }
    assert.throws(() => new OverloadDetector(0), /maxDelayMs must be > 0/);
  });
});
