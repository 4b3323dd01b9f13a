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

  it('refuses numbers with a unit or other trailing text instead of reading their digits', () => {
    for (const bad of ['6x', '25s', '1,000', '', ' ']) {
      assert.throws(
        () => loadEnv(commonEnv, { KAFKA_TOPIC_PARTITIONS: bad }),
        (err: unknown) => err instanceof EnvError && 'KAFKA_TOPIC_PARTITIONS' in err.problems,
        JSON.stringify(bad),
      );
    }
    assert.equal(loadEnv(commonEnv, { KAFKA_TOPIC_PARTITIONS: ' 12 ' }).KAFKA_TOPIC_PARTITIONS, 12);
  });

  it('validates SHUTDOWN_TIMEOUT_MS: a whole number of ms above 0, 25000 by default', () => {
    const shutdownMs = (raw: Record<string, string>): unknown => (loadEnv(commonEnv, raw) as Record<string, unknown>)['SHUTDOWN_TIMEOUT_MS'];
    assert.equal(shutdownMs({}), 25_000);
    assert.equal(shutdownMs({ SHUTDOWN_TIMEOUT_MS: '5000' }), 5_000);
    for (const bad of ['25s', '0', '-1', '2.5', 'NaN']) {
      assert.throws(
        () => loadEnv(commonEnv, { SHUTDOWN_TIMEOUT_MS: bad }),
        (err: unknown) => err instanceof EnvError && 'SHUTDOWN_TIMEOUT_MS' in err.problems,
        bad,
      );
    }
  });

  it('KAFKA_STATIC_MEMBERSHIP needs an INSTANCE_ID to join with', () => {
    assert.equal(loadEnv(commonEnv, {}).KAFKA_STATIC_MEMBERSHIP, false);
    assert.equal(loadEnv(commonEnv, { KAFKA_STATIC_MEMBERSHIP: 'true', INSTANCE_ID: 'seqrec-ingester-0' }).KAFKA_STATIC_MEMBERSHIP, true);
    assert.equal(loadEnv(commonEnv, { KAFKA_STATIC_MEMBERSHIP: 'false' }).KAFKA_STATIC_MEMBERSHIP, false);
    for (const on of ['true', '1', 'yes']) {
      assert.throws(
        () => loadEnv(commonEnv, { KAFKA_STATIC_MEMBERSHIP: on, INSTANCE_ID: ' ' }),
        (err: unknown) => err instanceof EnvError && /stable INSTANCE_ID/.test(err.problems.INSTANCE_ID ?? ''),
        on,
      );
    }
  });
});
