import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CredentialConfigError, CredentialStore, credentialDigest } from './credentials';

const list = (value: string, variable = 'AUTH_TEST_KEYS') => [{ value, variable }];

describe(CredentialStore.name, () => {
  it('matches configured secrets, with spaces and empty entries ignored, and nothing else', () => {
    const sut = new CredentialStore({ producer: list(' p1 , ,p2'), admin: list('a1') });
    assert.equal(sut.match('p1')?.roles.has('producer'), true);
    assert.equal(sut.match('p2')?.roles.has('producer'), true);
    assert.deepEqual([...sut.match('a1')!.roles], ['admin']);
    for (const wrong of ['', 'p', 'p1 ', 'P1', 'p1p1', 'a1\n', 'x'.repeat(10_000)]) assert.equal(sut.match(wrong), null, JSON.stringify(wrong.slice(0, 20)));
    assert.equal(sut.has('producer'), true);
    assert.equal(sut.has('client'), false);
    assert.equal(sut.count('producer'), 2);
  });

  it('one secret in several roles is one credential with both roles and one id', () => {
    const sut = new CredentialStore({ client: list('shared'), admin: list('shared') });
    const c = sut.match('shared')!;
    assert.deepEqual([...c.roles].sort(), ['admin', 'client']);
    assert.equal(c.id, credentialDigest('shared').toString('hex').slice(0, 8));
  });

  it('takes sha256:<hex> digests, so the secret store need not hold the key', () => {
    const hex = credentialDigest('from-the-vault').toString('hex');
    const sut = new CredentialStore({ client: list(`sha256:${hex.toUpperCase()}`) });
    assert.equal(sut.match('from-the-vault')?.id, hex.slice(0, 8));
    assert.equal(sut.match(`sha256:${hex}`), null, 'the digest itself is not a credential');
  });

  it('names the variable of a malformed digest', () => {
    assert.throws(
      () => new CredentialStore({ admin: list('ok,sha256:abc', 'AUTH_ADMIN_KEYS') }),
      (err: unknown) => err instanceof CredentialConfigError && err.variable === 'AUTH_ADMIN_KEYS' && /64 hex digits/.test(err.message),
    );
  });

  it('compares digests (32 bytes) whatever the length presented, so lengths do not show in the timing', () => {
    assert.equal(credentialDigest('').length, 32);
    assert.equal(credentialDigest('x'.repeat(100_000)).length, 32);
  });
});
