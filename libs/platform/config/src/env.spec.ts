import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvError, commonEnv, loadEnv, num } from './env';

describe(loadEnv.name, () => {
  it('returns typed values with defaults', () => {
    const env = loadEnv({ ...commonEnv, BATCH: num({ default: 5 }) }, { KAFKA_TOPIC_PARTITIONS: '12' });
    assert.equal(env.KAFKA_TOPIC_PARTITIONS, 12);
    assert.equal(env.BATCH, 5);
    assert.equal(env.KAFKA_BROKERS, '');
    assert.ok(Object.isFrozen(env));
  });

  it('lists every bad variable in one error', () => {
    assert.throws(
      () => loadEnv({ ...commonEnv, BATCH: num() }, { LOG_LEVEL: 'loud', KAFKA_TOPIC_PARTITIONS: 'many' }),
      (err: unknown) => {
        assert.ok(err instanceof EnvError);
        assert.deepEqual(Object.keys(err.problems).sort(), ['BATCH', 'KAFKA_TOPIC_PARTITIONS', 'LOG_LEVEL']);
        assert.match(err.message, /3 problems/);
        return true;
      },
    );
  });
});
