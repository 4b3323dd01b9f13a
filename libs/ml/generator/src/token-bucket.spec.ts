import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from './token-bucket';

describe(TokenBucket.name, () => {
  it('makes the first batch wait its share, then paces at the rate', () => {
    const sut = new TokenBucket(1_000, 500, 0);
    assert.equal(sut.reserve(500, 0), 500);
    // The caller waited 500 ms; the next 500 need another 500 ms.
    assert.equal(sut.reserve(500, 500), 500);
    assert.equal(sut.reserve(250, 1_000), 250);
  });

  it('lets saved-up tokens through at once, up to the capacity', () => {
    const sut = new TokenBucket(100, 50, 0);
    assert.equal(sut.reserve(50, 10_000), 0);
    assert.equal(sut.reserve(10, 10_000), 100);
  });

  it('keeps the long-run rate when batches are larger than the capacity', () => {
    const sut = new TokenBucket(2_000, 10, 0);
    let now = 0;
    for (let i = 0; i < 100; i++) now += sut.reserve(1_000, now);
    assert.ok(Math.abs(now - 50_000) < 1e-6, `took ${now} ms`);
  });

  it('rejects a non-positive rate', () => {
    assert.throws(() => new TokenBucket(0, 1), RangeError);
  });
});
