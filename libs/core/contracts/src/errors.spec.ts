import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeqrecError } from './errors';

class TestTimeoutError extends SeqrecError {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`, { retriable: true, context: { timeoutMs: ms } });
  }
}

describe(SeqrecError.name, () => {
  it('names the error after its class and carries the retriable flag, the context and the cause', () => {
    const cause = new Error('socket closed');
    const sut = new SeqrecError('bad', { retriable: false, cause });
    assert.equal(sut.name, 'SeqrecError');
    assert.equal(sut.retriable, false);
    assert.deepEqual(sut.context, {});
    assert.equal(sut.cause, cause);
    const sub = new TestTimeoutError(50);
    assert.ok(sub instanceof SeqrecError && sub instanceof Error);
    assert.equal(sub.name, 'TestTimeoutError');
    assert.equal(sub.retriable, true);
    assert.deepEqual(sub.context, { timeoutMs: 50 });
    assert.equal('cause' in sub, false);
  });
});
