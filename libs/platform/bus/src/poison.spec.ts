import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumedMessage } from './bus';
import { PoisonTracker, isTransient } from './poison';

const msg = (offset: number): ConsumedMessage => ({ topic: 't', partition: 0, offset: String(offset), key: null, value: Buffer.from(String(offset)), headers: {}, timestamp: 0 });
const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => msg(from + i));
const bad = new TypeError('cannot read properties of undefined');

describe(PoisonTracker.name, () => {
  it('isolates a batch that keeps failing, then dead-letters the one message that still fails', () => {
    const letters: string[] = [];
    const sut = new PoisonTracker(3, (m, err, attempts) => [{ topic: 'dlq', key: null, value: `${m.offset}:${(err as Error).message}:${attempts}` }].map((x) => (letters.push(String(x.value)), x)));
    assert.equal(sut.limit('t', 0, 10, 100), 100);
    for (let i = 0; i < 3; i++) assert.equal(sut.failed('t', 0, batch(10, 5), bad), undefined);
    // isolation: one message at a time until past the failed batch
    assert.equal(sut.limit('t', 0, 10, 100), 1);
    sut.succeeded('t', 0, 10);
    assert.equal(sut.limit('t', 0, 11, 100), 1);
    sut.succeeded('t', 0, 11);
    assert.equal(sut.failed('t', 0, batch(12, 1), bad), undefined);
    assert.equal(sut.failed('t', 0, batch(12, 1), bad), undefined);
    const out = sut.failed('t', 0, batch(12, 1), bad);
    assert.deepEqual(out?.map((m) => m.topic), ['dlq']);
    assert.deepEqual(letters, ['12:cannot read properties of undefined:3']);
    assert.equal(sut.limit('t', 0, 13, 100), 1, 'still inside the failed batch');
    sut.succeeded('t', 0, 13);
    assert.equal(sut.limit('t', 0, 14, 100), 1);
    sut.succeeded('t', 0, 14);
    assert.equal(sut.limit('t', 0, 15, 100), 100, 'past it: whole batches again');
  });

  it('never dead-letters on transient errors (a dependency down), however often', () => {
    const sut = new PoisonTracker(2, () => [{ topic: 'dlq', key: null, value: 'x' }]);
    const down = Object.assign(new Error('Connection is closed.'), {});
    for (let i = 0; i < 50; i++) assert.equal(sut.failed('t', 0, batch(0, 1), down), undefined);
    for (let i = 0; i < 50; i++) assert.equal(sut.failed('t', 0, batch(0, 1), Object.assign(new Error('x'), { retriable: true })), undefined);
    assert.equal(sut.limit('t', 0, 0, 10), 10);
  });

  it('is off without a dead-letter sink', () => {
    const sut = new PoisonTracker(1);
    for (let i = 0; i < 5; i++) assert.equal(sut.failed('t', 0, batch(0, 1), bad), undefined);
  });

  it('keeps partitions apart', () => {
    const sut = new PoisonTracker(1, () => []);
    sut.failed('t', 0, batch(0, 2), bad);
    assert.equal(sut.limit('t', 0, 0, 10), 1);
    assert.equal(sut.limit('t', 1, 0, 10), 10);
  });
});

describe(isTransient.name, () => {
  it('tells infrastructure failures from bad data', () => {
    assert.ok(isTransient(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })));
    assert.ok(isTransient(new Error('Command timed out')));
    assert.ok(isTransient(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' })));
    assert.ok(!isTransient(new TypeError("Cannot read properties of undefined (reading 'userId')")));
    assert.ok(!isTransient(new RangeError('offset out of range')));
    assert.ok(!isTransient(Object.assign(new Error('Connection lost'), { retriable: false })));
  });
});
