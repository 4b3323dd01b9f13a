import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deletedEvent, parseUserDeletion } from './value';

describe('user deletions', () => {
  it('parses a record only when it is a deletion of its key', () => {
    const v = (o: unknown) => Buffer.from(JSON.stringify(o));
    assert.deepEqual(parseUserDeletion(v({ userId: 'u1', at: 5, objection: false }), 'u1'), { userId: 'u1', at: 5, objection: false });
    assert.equal(parseUserDeletion(v({ userId: 'u1', at: 5, objection: false }), 'u2'), null, 'another key');
    assert.equal(parseUserDeletion(v({ userId: 'u1', at: '5', objection: false }), 'u1'), null);
    assert.equal(parseUserDeletion(v({ userId: 'u1', at: 5 }), 'u1'), null);
    assert.equal(parseUserDeletion(Buffer.from('{'), 'u1'), null);
    assert.equal(parseUserDeletion(null, 'u1'), null, 'a tombstone of the topic is not a deletion');
  });

  it('drops events stamped at or before the deletion by the producer or by Kafka, and every event of an objector', () => {
    const d = { at: 1_000, objection: false };
    assert.equal(deletedEvent(d, 999), true);
    assert.equal(deletedEvent(d, 1_000), true);
    assert.equal(deletedEvent(d, 1_001), false);
    assert.equal(deletedEvent(d, 1_001, 999), true, 'a producer clock ahead: Kafka stamped it before the deletion');
    assert.equal(deletedEvent(d, 1_001, 1_002), false);
    assert.equal(deletedEvent(d, 1_001, 0), false, 'no Kafka timestamp');
    assert.equal(deletedEvent({ at: 1_000, objection: true }, 5_000, 5_000), true);
    assert.equal(deletedEvent(undefined, 0), false);
  });
});
