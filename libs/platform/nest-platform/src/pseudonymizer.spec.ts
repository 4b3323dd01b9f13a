import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pseudonymizer } from './pseudonymizer';

describe(Pseudonymizer.name, () => {
  const key = 'k'.repeat(32);

  it('maps an id to a stable keyed pseudonym that does not hold it, and is idempotent', () => {
    const sut = new Pseudonymizer(key);
    const p = sut.userId('alice@example.com');
    assert.match(p, /^p1\.[A-Za-z0-9_-]{43}$/);
    assert.equal(p.includes('alice'), false);
    assert.equal(sut.userId('alice@example.com'), p, 'stable');
    assert.equal(new Pseudonymizer(key).userId('alice@example.com'), p, 'the same in every process with the key');
    assert.notEqual(new Pseudonymizer('x'.repeat(32)).userId('alice@example.com'), p, 'another key, another pseudonym');
    assert.notEqual(sut.userId('bob'), p);
    assert.equal(sut.userId(p), p, 'a pseudonym is kept (a retried deletion, a producer that pseudonymises)');
  });

  it('passes ids through when off, and refuses a short key', () => {
    assert.equal(new Pseudonymizer(null).userId('alice'), 'alice');
    assert.equal(new Pseudonymizer(null).enabled, false);
    assert.throws(() => new Pseudonymizer('short'), /at least 32/);
  });
});
