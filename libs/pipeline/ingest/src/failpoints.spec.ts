import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailpointError, Failpoints } from './failpoints';

describe(Failpoints.name, () => {
  it('does nothing when empty', async () => {
    const sut = new Failpoints('');
    assert.equal(sut.enabled, false);
    await sut.hit('raw.after-claim');
    assert.equal(sut.fires('http.partial-publish'), false);
  });

  it('throws at a point the given number of times', async () => {
    const sut = new Failpoints('raw.after-claim=throw*2, http.partial-publish=throw');
    await assert.rejects(sut.hit('raw.after-claim'), FailpointError);
    await assert.rejects(sut.hit('raw.after-claim'), /failpoint raw.after-claim/);
    await sut.hit('raw.after-claim');
    await sut.hit('http.after-publish');
    assert.equal(sut.fires('http.partial-publish'), true);
    assert.equal(sut.fires('http.partial-publish'), true, 'no count: every time');
  });

  it('delays', async () => {
    const sut = new Failpoints('http.before-answer=delay:30');
    const t0 = performance.now();
    await sut.hit('http.before-answer');
    assert.ok(performance.now() - t0 >= 25);
  });

  it('names what is wrong with a bad spec', () => {
    assert.throws(() => new Failpoints('raw.after-claim'), /expected name=throw\|kill\|delay:<ms>\[\*count\]/);
    assert.throws(() => new Failpoints('raw.before-lunch=throw'), /unknown, one of http.after-publish/);
  });
});
