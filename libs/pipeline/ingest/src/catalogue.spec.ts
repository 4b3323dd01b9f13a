import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumedMessage } from '@seqrec/bus';
import { decodeItem, encodeItem, parseItem, TOPICS } from '@seqrec/contracts';
import { catalogueBatch } from './catalogue';

const msg = (key: string | null, value: string | null, offset = 0): ConsumedMessage => ({
  topic: TOPICS.ITEMS,
  partition: 0,
  offset: String(offset),
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  headers: {},
  timestamp: 1_700_000_000_000 + offset,
});

describe('catalogue items', () => {
  it('round-trips an item through the compact record (image vector to int8 precision)', () => {
    const item = { itemId: 'sku-1', title: 'Mug', category: 'Home/Kitchen', brand: 'Acme', price: 19.99, available: false, attributes: { colour: 'red', size: 3 }, imageVector: [0.5, -1, 0.25] };
    const back = decodeItem('sku-1', encodeItem(item, 1_700_000_000_123));
    const { imageVector, ...rest } = back;
    const { imageVector: sent, ...fields } = item;
    assert.deepEqual(rest, { ...fields, updatedAt: 1_700_000_000_123 });
    assert.equal(sent.length, imageVector!.length);
    imageVector!.forEach((v, i) => assert.ok(Math.abs(v - item.imageVector[i]!) <= 1 / 127, `lane ${i}`));
    assert.equal(decodeItem('x', encodeItem({ itemId: 'x' }, 5)).available, true, 'available unless said otherwise');
  });

  it('rejects bad items with a reason and the field', () => {
    const cases: Array<[string, string, string | undefined]> = [
      ['{"itemId":"a","price":-1}', 'invalid_field', '/price'],
      ['{"itemId":"a","category":"a//b"}', 'invalid_field', '/category'],
      ['{"itemId":"a","colour":"red"}', 'invalid_field', '/colour'],
      ['{"itemId":"a","attributes":{"x":{"y":1}}}', 'too_deep', undefined],
      ['{"itemId":"a","itemId":"b"}', 'duplicate_key', undefined],
      ['[1]', 'not_an_object', undefined],
      ['{"itemId":', 'invalid_json', undefined],
      ['{"title":"no id"}', 'invalid_field', undefined],
      ['{"itemId":"a","imageVector":[]}', 'invalid_field', '/imageVector'],
      ['{"itemId":"\\ud800"}', 'invalid_encoding', '/itemId'],
    ];
    for (const [text, reason, field] of cases) {
      const v = parseItem(text);
      assert.equal(v.ok, false, text);
      if (v.ok) continue;
      assert.equal(v.rejection.reason, reason, text);
      if (field) assert.equal(v.rejection.field, field, text);
    }
  });

  it('turns a batch of the items topic into store changes and dead letters, in order', () => {
    const { changes, letters } = catalogueBatch(
      [msg('a', '{"itemId":"a","price":3}', 1), msg('a', null, 2), msg('b', '{"itemId":"c"}', 3), msg(null, null, 4), msg('d', 'nope', 5)],
      1_800_000_000_000,
      1024,
    );
    assert.deepEqual(
      changes.map((c) => [c.itemId, c.record === null ? null : decodeItem(c.itemId, c.record).updatedAt]),
      [
        ['a', 1_700_000_000_001],
        ['a', null],
      ],
    );
    assert.deepEqual(
      letters.map((l) => JSON.parse(String(l.value)).reason),
      ['invalid_field', 'invalid_field', 'invalid_json'],
      'a record under another key, a keyless tombstone, a record that is not JSON',
    );
    assert.ok(letters.every((l) => l.topic === TOPICS.EVENTS_DLQ));
  });
});
