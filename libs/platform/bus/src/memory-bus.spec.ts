import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBus } from './memory-bus';
import type { ConsumedMessage } from './bus';

async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe(MemoryBus.name, () => {
  it('keeps per-key order and delivers staged messages only after the handler succeeded', async () => {
    const sut = new MemoryBus({ defaultPartitions: 3, retryDelayMs: 1 });
    const seen: string[] = [];
    let failOnce = true;
    const sub = await sut.subscribe({ groupId: 'g', topics: ['in'] }, async (batch, ctx) => {
      if (failOnce) {
        failOnce = false;
        ctx.publish([{ topic: 'out', key: 'x', value: 'lost' }]);
        throw new Error('transient');
      }
      for (const m of batch.messages) {
        seen.push(m.value!.toString());
        ctx.publish([{ topic: 'out', key: m.key!.toString(), value: m.value! }]);
      }
    });
    await sut.publish(['1', '2', '3'].map((v) => ({ topic: 'in', key: 'user', value: v })));
    await until(() => seen.length === 3);
    assert.deepEqual(seen, ['1', '2', '3']);
    assert.deepEqual(sut.messages('out').map((m: ConsumedMessage) => m.value!.toString()), ['1', '2', '3']);
    await sub.stop();
    await sut.close();
  });

  it('runs after-commit callbacks of committed batches only', async () => {
    const sut = new MemoryBus({ defaultPartitions: 1, retryDelayMs: 1 });
    const ran: string[] = [];
    let failOnce = true;
    const sub = await sut.subscribe({ groupId: 'g', topics: ['in'] }, async (batch, ctx) => {
      const values = batch.messages.map((m) => m.value!.toString()).join(',');
      ctx.afterCommit(async () => void ran.push(`${failOnce ? 'failed' : 'committed'}:${values}:${sut.messages('out').length}`));
      ctx.publish([{ topic: 'out', key: 'k', value: values }]);
      if (failOnce) {
        failOnce = false;
        throw new Error('transient');
      }
    });
    await sut.publish(['a', 'b'].map((v) => ({ topic: 'in', key: 'k', value: v })));
    await until(() => ran.length === 1);
    // the failed attempt's callback never runs; the committed one runs after its output is written
    assert.deepEqual(ran, ['committed:a,b:1']);
    await sub.stop();
  });

  it('resumes a group from its committed offset', async () => {
    const sut = new MemoryBus({ defaultPartitions: 1 });
    const got: string[] = [];
    const first = await sut.subscribe({ groupId: 'g', topics: ['t'] }, async (b) => void got.push(...b.messages.map((m) => m.value!.toString())));
    await sut.publish([{ topic: 't', key: 'k', value: 'a' }]);
    await until(() => got.length === 1);
    await first.stop();
    await sut.publish([{ topic: 't', key: 'k', value: 'b' }]);
    const second = await sut.subscribe({ groupId: 'g', topics: ['t'] }, async (b) => void got.push(...b.messages.map((m) => m.value!.toString())));
    await until(() => got.length === 2);
    assert.deepEqual(got, ['a', 'b']);
    await second.stop();
  });
});
