import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkBySize } from './kafka-bus';

describe(chunkBySize.name, () => {
  it('keeps every message, in order, in runs under the byte budget', () => {
    const messages = Array.from({ length: 100 }, (_, i) => ({ topic: 't', key: `k${i}`, value: 'x'.repeat(100 + i) }));
    const chunks = chunkBySize(messages, 2_000);
    assert.deepEqual(chunks.flat(), messages);
    for (const c of chunks) {
      const bytes = c.reduce((s, m) => s + m.value.length + (m.key?.length ?? 0) + 32, 0);
      assert.ok(bytes <= 2_000 || c.length === 1, `chunk of ${bytes} bytes`);
    }
    assert.ok(chunks.length > 5);
  });

  it('sends an oversized single message alone', () => {
    const big = { topic: 't', key: null, value: Buffer.alloc(5_000) };
    assert.deepEqual(chunkBySize([big, big], 1_000).map((c) => c.length), [1, 1]);
  });
});
