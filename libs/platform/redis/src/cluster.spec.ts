import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisKeys } from '@seqrec/contracts';
import { keySlot } from './cluster';

describe(keySlot.name, () => {
  it('is CRC16 (XMODEM) modulo 16384, as in the Redis Cluster specification', () => {
    assert.equal(keySlot('123456789'), 0x31c3 % 16_384); // the specification's CRC16 check value
    assert.equal(keySlot('foo'), 12_182);
    assert.equal(keySlot('bar'), 5_061);
    assert.equal(keySlot(''), 0);
  });

  it('hashes only the first non-empty hash tag', () => {
    assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
    assert.notEqual(keySlot('foo{}{bar}'), keySlot('bar'));
    assert.equal(keySlot('foo{{bar}}zap'), keySlot('{bar'));
    assert.equal(keySlot('foo{bar}{zap}'), keySlot('bar'));
    assert.equal(keySlot('{€}'), keySlot('€'));
  });

  it('puts every key of one user, and the three item-dictionary keys, in one slot', () => {
    const keys = new RedisKeys('seqrec');
    assert.equal(keySlot(keys.userSequence('alice')), keySlot(keys.userVector('alice')));
    assert.equal(keySlot(keys.itemIndex()), keySlot(keys.itemIds()));
    assert.equal(keySlot(keys.itemIndex()), keySlot(keys.itemCounter()));
    assert.notEqual(keySlot(keys.userSequence('alice')), keySlot(keys.userSequence('bob')));
  });
});
