import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MicroBatcher, QueueFullError, type TopKJob } from './micro-batcher';
import type { ServingModel } from './serving-model';

/** A stand-in model whose encoder records the batch sizes it is asked for. */
function fakeModel(version: string, calls: number[], delayMs = 5): ServingModel {
  const encoder = {
    config: { numTypes: 0 },
    async topK(histories: Int32Array[], k: number) {
      calls.push(histories.length);
      await new Promise((r) => setTimeout(r, delayMs));
      return histories.map((h) => ({ items: Int32Array.from({ length: k }, (_, i) => h[0]! + i), scores: new Float32Array(k) }));
    },
    async scoreItems(histories: Int32Array[], candidates: Int32Array[]) {
      calls.push(histories.length);
      return candidates.map((c) => Float32Array.from(c));
    },
  };
  const model = {
    version,
    encoder,
    topKHistories: (histories: Int32Array[], _types: unknown, k: number) => model.encoder.topK(histories, k),
  };
  return model as unknown as ServingModel;
}

const job = (model: ServingModel, first: number, k = 2): TopKJob => ({
  kind: 'topk',
  model,
  ids: Int32Array.of(first),
  types: new Uint8Array(1),
  k,
  exclude: new Int32Array(0),
});

describe(MicroBatcher.name, () => {
  it('scores requests that arrive together in one pass, each with its own k, and no batch above maxBatch', async () => {
    const calls: number[] = [];
    const sut = new MicroBatcher({ maxBatch: 4, maxWaitMs: 2, maxQueue: 100 });
    const m = fakeModel('v1', calls);
    const res = await Promise.all(Array.from({ length: 10 }, (_, i) => sut.submit(job(m, i * 10, 1 + (i % 3)))));
    res.forEach((r, i) => {
      assert.equal(r.items[0], i * 10);
      assert.equal(r.items.length, 1 + (i % 3));
    });
    assert.deepEqual(calls, [4, 4, 2]);
  });

  it('keeps model versions apart within a batch (hot swap in progress)', async () => {
    const calls: number[] = [];
    const sut = new MicroBatcher({ maxBatch: 8, maxWaitMs: 1, maxQueue: 100 });
    const a = fakeModel('a', calls);
    const b = fakeModel('b', calls);
    await Promise.all([sut.submit(job(a, 1)), sut.submit(job(b, 2)), sut.submit(job(a, 3))]);
    assert.deepEqual(calls.sort(), [1, 2]);
  });

  it('sheds beyond maxQueue waiting requests with a QueueFullError, at once', async () => {
    const calls: number[] = [];
    const sut = new MicroBatcher({ maxBatch: 2, maxWaitMs: 50, maxQueue: 3 });
    const m = fakeModel('v1', calls, 20);
    const ok = [sut.submit(job(m, 1)), sut.submit(job(m, 2)), sut.submit(job(m, 3))];
    assert.throws(() => sut.submit(job(m, 4)), QueueFullError);
    assert.equal(sut.depth, 3);
    await Promise.all(ok);
    assert.equal(sut.depth, 0);
  });

  it('sheds by waiting time: new requests while the oldest waited too long, and requests that expired before their pass', async () => {
    const calls: number[] = [];
    const sut = new MicroBatcher({ maxBatch: 1, maxWaitMs: 0, maxQueue: 100, maxQueueWaitMs: 30 });
    const m = fakeModel('v1', calls, 60); // each pass takes 60 ms, twice the wait limit
    const first = sut.submit(job(m, 1));
    const second = sut.submit(job(m, 2)); // waits behind the first pass
    await new Promise((r) => setTimeout(r, 40));
    // The oldest waiting request (second) has waited > 30 ms: new work is shed at once.
    assert.throws(
      () => sut.submit(job(m, 3)),
      (e: unknown) => e instanceof QueueFullError && e.reason === 'queue_wait',
    );
    assert.equal((await first).items[0], 1);
    // By the time its pass could start, the second request has waited ~60 ms: failed, not scored.
    await assert.rejects(second, (e: unknown) => e instanceof QueueFullError && e.reason === 'queue_timeout');
    assert.deepEqual(calls, [1]);
    // Once the queue has drained, requests are scored again.
    assert.equal((await sut.submit(job(m, 4))).items[0], 4);
  });

  it('fails every request of a pass whose forward pass threw, and keeps serving', async () => {
    const m = fakeModel('v1', []);
    (m.encoder as { topK: unknown }).topK = async () => {
      throw new Error('boom');
    };
    const sut = new MicroBatcher({ maxBatch: 4, maxWaitMs: 0, maxQueue: 10 });
    await assert.rejects(Promise.all([sut.submit(job(m, 1)), sut.submit(job(m, 2))]), /boom/);
    const good = fakeModel('v2', []);
    assert.equal((await sut.submit(job(good, 7))).items[0], 7);
  });
});
