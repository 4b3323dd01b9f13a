import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { RejectReason } from '../event/validate';
import { DEAD_LETTER_MAX_ORIGINAL_BYTES, boundedLetter, originalPayload, type DeadLetterV1 } from './value';

describe(originalPayload.name, () => {
  it('keeps a payload up to the bound whole: text as text, other bytes as base64', () => {
    assert.equal(DEAD_LETTER_MAX_ORIGINAL_BYTES, 65_536);
    assert.deepEqual(originalPayload(Buffer.from('{"a":"é"}')), { original: '{"a":"é"}' });
    assert.deepEqual(originalPayload(Buffer.from([0xff, 0x00, 0x41])), { originalBase64: '/wBB' });
    assert.deepEqual(originalPayload(Buffer.from('{"a":1}'), 100, { binary: true }), { originalBase64: Buffer.from('{"a":1}').toString('base64') });
    // a U+FFFD written by the producer is a character, not an encoding error
    assert.deepEqual(originalPayload(Buffer.from('\uFFFD')), { original: '\uFFFD' });
  });

  it('truncates a larger payload on a character boundary, with its length and SHA-256', () => {
    const big = Buffer.from(`{"blob":"${'é'.repeat(300_000)}"}`);
    const p = originalPayload(big);
    assert.equal(p.truncated, true);
    assert.equal(p.originalBytes, big.length);
    assert.equal(p.originalSha256, createHash('sha256').update(big).digest('hex'));
    assert.ok(Buffer.byteLength(p.original!) <= 65_536 && Buffer.byteLength(p.original!) >= 65_534);
    assert.ok(big.toString().startsWith(p.original!), 'a prefix, no broken character');
    const bin = originalPayload(Buffer.alloc(20_000, 0xff), 1_000);
    assert.equal(Buffer.from(bin.originalBase64!, 'base64').length, 1_000);
    assert.equal(bin.originalBytes, 20_000);
  });

  it('keeps a dead letter of a 600 KB payload far under the 1 MB message limit, even all control characters', () => {
    for (const fill of [0x78, 0x01]) {
      const letter: DeadLetterV1 = boundedLetter({
        reason: RejectReason.TooLarge,
        detail: 'x'.repeat(100_000),
        field: '/'.repeat(10_000),
        source: { kind: 'kafka', topic: 't', partition: 0, offset: '1' },
        rejectedAt: 0,
        ...originalPayload(Buffer.alloc(600 * 1024, fill)),
      });
      const size = Buffer.byteLength(JSON.stringify(letter));
      assert.ok(size < 420_000, `dead letter of ${size} bytes`);
      assert.equal(letter.detail.length, 1_024);
      assert.equal(letter.field!.length, 256);
    }
  });
});
