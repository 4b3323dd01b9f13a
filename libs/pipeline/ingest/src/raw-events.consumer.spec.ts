import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GROUPS } from '@seqrec/contracts';
import { rawConsumerExtras } from './raw-events.consumer';

describe(rawConsumerExtras.name, () => {
  it('reads INGEST_EXACTLY_ONCE as the start-up validation does', () => {
    for (const off of ['0', 'false', 'f', 'no']) {
      assert.equal(rawConsumerExtras({ INGEST_EXACTLY_ONCE: off }).transactional, false, `INGEST_EXACTLY_ONCE=${off}`);
    }
    for (const on of ['1', 'true', 't', 'yes']) {
      assert.equal(rawConsumerExtras({ INGEST_EXACTLY_ONCE: on }).transactional, true, `INGEST_EXACTLY_ONCE=${on}`);
    }
    assert.equal(rawConsumerExtras({}).transactional, true, 'default: exactly-once');
  });

  it('names the ingester group', () => {
    assert.equal(rawConsumerExtras({}).group, GROUPS.INGESTER);
  });
});
