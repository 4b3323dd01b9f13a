import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_NORMALIZE_OPTIONS, MAX_ID_LENGTH, RejectReason, TOPICS, type DeadLetterV1 } from '@seqrec/contracts';
import type { ConsumedMessage } from '@seqrec/bus';
import { MemoryEventClaims } from '@seqrec/window';
import { EventIngestor, deadLetterClaimId, type IngestRecord } from './event-ingestor';
import { CLAIM_HEADER, DEAD_LETTER_HEADER, RECEIVED_AT_HEADER, rawRecord, relayedDeadLetter } from './raw-events.consumer';

const NOW = Date.parse('2026-11-22T10:00:00Z');

function newTestIngestor(maxDeadLetterOriginalBytes?: number) {
  const claims = new MemoryEventClaims(() => NOW);
  const sut = new EventIngestor(claims, { normalize: DEFAULT_NORMALIZE_OPTIONS, dedupTtlMs: 60_000, ...(maxDeadLetterOriginalBytes ? { maxDeadLetterOriginalBytes } : {}) });
  return { sut, claims };
}

const record = (payload: string | Buffer, offset: number, extra: Partial<IngestRecord> = {}): IngestRecord => ({
  payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
  source: { kind: 'kafka', topic: 't', partition: 0, offset: String(offset) },
  claimSource: `k:0:${offset}`,
  ...extra,
});
const event = (eventId: string, extra: Record<string, unknown> = {}) => JSON.stringify({ eventId, userId: 'u1', type: 'view', itemId: 'i1', ts: NOW - 1_000, ...extra });

describe(EventIngestor.name, () => {
  it('publishes each event id once: a redelivery of the same message is ours, another message with it is a duplicate', async () => {
    const { sut } = newTestIngestor();
    const first = await sut.ingest([record(event('e1'), 1), record(event('e2'), 2), record(event('e1'), 3)], NOW);
    assert.deepEqual(first.outcomes.map((o) => o.status), ['accepted', 'accepted', 'duplicate']);
    assert.deepEqual(first.messages.map((m) => m.topic), [TOPICS.EVENTS, TOPICS.EVENTS]);
    const redelivered = await sut.ingest([record(event('e1'), 1), record(event('e2'), 2)], NOW);
    assert.deepEqual(redelivered.outcomes.map((o) => o.status), ['accepted', 'accepted'], 'a crash before the commit redoes the batch');
    const httpCopy = await sut.ingest([record(event('e1'), 9, { claimSource: 'h:r:0' })], NOW);
    assert.deepEqual(httpCopy.outcomes.map((o) => o.status), ['duplicate']);
  });

  it('publishes nothing again when a committed batch is replayed (offsets reset); the HTTP attempt still owns its event', async () => {
    const { sut } = newTestIngestor();
    const batch = [record(event('e1'), 1), record(event('e2'), 2, { claimSource: 'h:r:0' })];
    const first = await sut.ingest(batch, NOW);
    assert.deepEqual(first.claimed, [{ eventId: 'e1', source: 'k:0:1' }, { eventId: 'e2', source: 'h:r:0' }]);
    await sut.markPublished(first.claimed); // what the raw consumer does once the batch committed
    const replay = await sut.ingest(batch, NOW);
    assert.deepEqual(replay.outcomes.map((o) => o.status), ['duplicate', 'duplicate']);
    assert.deepEqual([replay.messages, replay.claimed], [[], []]);
    assert.deepEqual(await sut.claim([{ eventId: 'e2', source: 'h:r:0' }], 'answer'), [true], 'the HTTP answer after the consumer was faster');
    assert.deepEqual(await sut.claim([{ eventId: 'e2', source: 'h:r:1' }], 'answer'), [false], 'a retry');
  });

  it('relays an HTTP dead letter once per producer and element: a retry, a redelivery and a replay write it once', async () => {
    const { sut } = newTestIngestor();
    const bad = Buffer.from('{"eventId":"x"}');
    const id = deadLetterClaimId('3f2a9c01', bad);
    assert.ok(id.length > MAX_ID_LENGTH, 'never the claim of an eventId');
    assert.notEqual(deadLetterClaimId('', bad), id, 'another producer');
    assert.notEqual(deadLetterClaimId('3f2a9c01', Buffer.from('{"eventId":"y"}')), id, 'another element');
    const letter = (source: string) => ({ claimId: id, source, key: 'u1', value: Buffer.from(`letter of ${source}`) });
    const first = await sut.relayDeadLetters([letter('h:r1:0')]);
    assert.deepEqual(first.messages, [{ topic: TOPICS.EVENTS_DLQ, key: 'u1', value: Buffer.from('letter of h:r1:0') }]);
    assert.deepEqual([first.claimed, first.dropped], [[{ eventId: id, source: 'h:r1:0' }], 0]);
    assert.equal((await sut.relayDeadLetters([letter('h:r1:0')])).messages.length, 1, 'a redelivery (aborted batch) is ours');
    const retry = await sut.relayDeadLetters([letter('h:r2:0')]);
    assert.deepEqual([retry.messages, retry.dropped], [[], 1], "the client's retry");
    await sut.markPublished(first.claimed);
    assert.equal((await sut.relayDeadLetters([letter('h:r1:0')])).messages.length, 0, 'a replay of the raw topic');
  });

  it('reads a relayed dead letter only from a message POST /v1/events published', () => {
    const m = (headers: Record<string, string>): ConsumedMessage => ({ topic: 't', partition: 0, offset: '5', key: Buffer.from('u1'), value: Buffer.from('{}'), headers, timestamp: NOW });
    const id = deadLetterClaimId('', Buffer.from('x'));
    assert.deepEqual(relayedDeadLetter(m({ [CLAIM_HEADER]: 'h:r:3', [DEAD_LETTER_HEADER]: id })), { claimId: id, source: 'h:r:3', key: 'u1', value: Buffer.from('{}') });
    assert.equal(relayedDeadLetter(m({ [DEAD_LETTER_HEADER]: id })), undefined, 'no HTTP attempt');
    assert.equal(relayedDeadLetter(m({ [CLAIM_HEADER]: 'k:0:5', [DEAD_LETTER_HEADER]: id })), undefined, 'not an HTTP attempt');
    assert.equal(relayedDeadLetter(m({ [CLAIM_HEADER]: 'h:r:3', [DEAD_LETTER_HEADER]: 'e1' })), undefined, 'an eventId is no dead-letter claim');
    assert.equal(relayedDeadLetter(m({ [CLAIM_HEADER]: 'h:r:3' })), undefined, 'an event');
  });

  it('dead-letters a rejected payload with its reason, ids, key and a bounded original', async () => {
    const { sut } = newTestIngestor(1_000);
    const big = event('e9', { blob: 'x'.repeat(20_000) });
    const r = await sut.ingest([record(event('e8', { type: 'like' }), 1), record(big, 2, { key: 'the-key' })], NOW);
    assert.deepEqual(r.outcomes.map((o) => o.status), ['rejected', 'rejected']);
    const [typo, large] = r.messages.map((m) => ({ key: m.key, letter: JSON.parse(String(m.value)) as DeadLetterV1 }));
    assert.equal(typo!.key, 'u1');
    assert.deepEqual([typo!.letter.reason, typo!.letter.field, typo!.letter.eventId, typo!.letter.userId], [RejectReason.InvalidField, '/type', 'e8', 'u1']);
    assert.equal(large!.key, 'the-key', 'not parsed: keyed by the raw message key');
    assert.deepEqual([large!.letter.reason, large!.letter.truncated, large!.letter.originalBytes, large!.letter.original!.length], [RejectReason.TooLarge, true, big.length, 1_000]);
  });

  it('judges ts by the time the record was received', async () => {
    const { sut } = newTestIngestor();
    const stamped = event('old', { ts: NOW - 365 * 86_400_000 + 5_000 });
    const late = await sut.ingest([record(stamped, 1)], NOW + 10_000);
    assert.equal(late.outcomes[0]!.status, 'rejected', 'a year old by now');
    const asReceived = await sut.ingest([record(stamped, 2, { receivedAt: NOW })], NOW + 10_000);
    assert.equal(asReceived.outcomes[0]!.status, 'accepted', 'not a year old when it reached Kafka');
  });
});

describe(rawRecord.name, () => {
  const message = (headers: Record<string, string>, timestamp: number): ConsumedMessage => ({
    topic: 'raw',
    partition: 3,
    offset: '41',
    key: Buffer.from('u1'),
    value: Buffer.from('{}'),
    headers,
    timestamp,
  });

  it('claims for the message position, or for the HTTP attempt it carries', () => {
    assert.equal(rawRecord(message({}, NOW), NOW).claimSource, 'k:3:41');
    assert.equal(rawRecord(message({ [CLAIM_HEADER]: 'h:req:7' }, NOW), NOW).claimSource, 'h:req:7');
    assert.equal(rawRecord(message({ [CLAIM_HEADER]: 'k:0:1' }, NOW), NOW).claimSource, 'k:3:41', 'a producer cannot pose as another position');
  });

  it('takes the earliest plausible receipt time, never one in the future', () => {
    assert.equal(rawRecord(message({}, NOW - 500), NOW).receivedAt, NOW - 500);
    assert.equal(rawRecord(message({}, NOW + 60_000), NOW).receivedAt, NOW);
    assert.equal(rawRecord(message({ [RECEIVED_AT_HEADER]: String(NOW - 900) }, NOW - 500), NOW).receivedAt, NOW - 900);
    assert.equal(rawRecord(message({ [RECEIVED_AT_HEADER]: 'soon' }, NOW - 500), NOW).receivedAt, NOW - 500);
    assert.equal(rawRecord(message({}, NOW), NOW).key, 'u1');
  });
});
