import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PublishAdmission, PublishTimeoutError } from './admission';

function newTestAdmission(maxInFlightBytes = 100, publishTimeoutMs = 50, firstPublishTimeoutMs = publishTimeoutMs) {
  let now = 0;
  const sut = new PublishAdmission({ maxInFlightBytes, publishTimeoutMs, firstPublishTimeoutMs }, () => now);
  return { sut, advance: (ms: number) => (now += ms) };
}

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe(PublishAdmission.name, () => {
  it('refuses when the bus is not ready, when the budget is spent, and takes one oversized body alone', async () => {
    const { sut } = newTestAdmission(100);
    assert.equal(sut.refusal(10, false), 'bus_unavailable');
    assert.equal(sut.refusal(500, true), undefined, 'nothing in flight: even a large body');
    const d = deferred();
    const p = sut.publish(60, () => d.promise);
    assert.equal(sut.inFlightBytes, 60);
    assert.equal(sut.refusal(40, true), undefined);
    assert.equal(sut.refusal(41, true), 'full');
    d.resolve();
    await p;
    assert.equal(sut.inFlightBytes, 0);
  });

  it('answers a publish that is not acknowledged in time with PublishTimeoutError, and holds its bytes until it settles', async () => {
    const { sut, advance } = newTestAdmission(100, 20);
    const d = deferred();
    await assert.rejects(sut.publish(30, () => d.promise), PublishTimeoutError);
    assert.equal(sut.inFlightBytes, 30, 'Kafka may still deliver it: its memory is still held');
    advance(21);
    assert.equal(sut.refusal(1, true), 'bus_stalled', 'a publish older than the timeout: refuse at once');
    d.reject(new Error('message timed out'));
    await new Promise((r) => setImmediate(r));
    assert.equal(sut.inFlightBytes, 0);
    assert.equal(sut.refusal(1, true), undefined, 'settled: the next request probes the bus again');
  });

  it('passes a publish failure through and frees its bytes', async () => {
    const { sut } = newTestAdmission();
    await assert.rejects(sut.publish(10, () => Promise.reject(new Error('broker said no'))), /broker said no/);
    await assert.rejects(sut.publish(10, () => { throw new Error('sync throw'); }), /sync throw/);
    assert.equal(sut.inFlightBytes, 0);
  });

  it('gives the first publish of the process (a cold producer) longer', async () => {
    const { sut, advance } = newTestAdmission(100, 20, 200);
    const slow = deferred();
    const p = sut.publish(10, () => slow.promise);
    advance(100);
    assert.equal(sut.refusal(1, true), undefined, 'not stalled yet: still within the first deadline');
    slow.resolve();
    await p;
    const d = deferred();
    await assert.rejects(sut.publish(10, () => d.promise), PublishTimeoutError, 'warm: the normal deadline');
    d.resolve();
  });
});
