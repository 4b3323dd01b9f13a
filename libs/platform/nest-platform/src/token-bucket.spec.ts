import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBuckets } from './token-bucket';

function newTestBuckets() {
  const clock = { t: 0 };
  return { sut: new TokenBuckets(() => clock.t), clock };
}

describe(TokenBuckets.name, () => {
  it('lets a burst through, then one request per 1/rate seconds, and says how long to wait', () => {
    const { sut, clock } = newTestBuckets();
    const limit = { ratePerSec: 2, burst: 3 };
    for (let i = 0; i < 3; i++) assert.equal(sut.take('k', limit), 0, `burst ${i}`);
    assert.equal(sut.take('k', limit), 500, 'empty: one token in 500 ms');
    clock.t = 250;
    assert.equal(sut.take('k', limit), 250);
    clock.t = 500;
    assert.equal(sut.take('k', limit), 0, 'refilled');
    assert.equal(sut.take('k', limit), 500);
  });

  it('keeps one bucket per key', () => {
    const { sut } = newTestBuckets();
    const limit = { ratePerSec: 1, burst: 1 };
    assert.equal(sut.take('a', limit), 0);
    assert.ok(sut.take('a', limit) > 0);
    assert.equal(sut.take('b', limit), 0, 'another credential is not affected');
  });

  it('refills up to the burst only, and a rate of 0 is unlimited', () => {
    const { sut, clock } = newTestBuckets();
    const limit = { ratePerSec: 10, burst: 2 };
    sut.take('k', limit);
    clock.t = 60_000;
    assert.equal(sut.take('k', limit), 0);
    assert.equal(sut.take('k', limit), 0);
    assert.ok(sut.take('k', limit) > 0, 'a long pause does not bank more than the burst');
    for (let i = 0; i < 1_000; i++) assert.equal(sut.take('u', { ratePerSec: 0, burst: 0 }), 0);
  });
});
