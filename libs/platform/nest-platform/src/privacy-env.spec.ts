import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commonEnv, loadEnv } from '@seqrec/config';
import { privacyProblems } from './platform.module';

const env = (vars: Record<string, string>) => loadEnv(commonEnv, { KAFKA_BROKERS: 'k:9092', ...vars });

describe(privacyProblems.name, () => {
  it('accepts the defaults, and the embedded mode whatever its retention', () => {
    assert.deepEqual(privacyProblems(env({})), {});
    assert.deepEqual(privacyProblems(loadEnv(commonEnv, { KAFKA_RETENTION_HOURS: '-1' })), {});
  });

  it('refuses a retention beyond the privacy bound or forever, a marker shorter than the retention, a short key', () => {
    assert.deepEqual(Object.keys(privacyProblems(env({ KAFKA_RETENTION_HOURS: '721', PRIVACY_MARKER_TTL_DAYS: '31' }))), ['KAFKA_RETENTION_HOURS']);
    assert.deepEqual(Object.keys(privacyProblems(env({ KAFKA_RETENTION_HOURS: '-1' }))).sort(), ['KAFKA_RETENTION_HOURS', 'PRIVACY_MARKER_TTL_DAYS']);
    assert.deepEqual(privacyProblems(env({ KAFKA_RETENTION_HOURS: '-1', PRIVACY_MAX_RETENTION_HOURS: '-1', PRIVACY_MARKER_TTL_DAYS: '0' })), {}, 'no bound, markers forever');
    assert.match(privacyProblems(env({ KAFKA_RETENTION_HOURS: '240', PRIVACY_MARKER_TTL_DAYS: '7' }))['PRIVACY_MARKER_TTL_DAYS'] ?? '', /shorter than the events topic's retention/);
    assert.match(privacyProblems(env({ PRIVACY_PSEUDONYMIZE: 'true', PRIVACY_HMAC_KEY: 'short' }))['PRIVACY_HMAC_KEY'] ?? '', /at least 32/);
    assert.deepEqual(privacyProblems(env({ PRIVACY_PSEUDONYMIZE: 'true', PRIVACY_HMAC_KEY: 'k'.repeat(32) })), {});
  });
});
