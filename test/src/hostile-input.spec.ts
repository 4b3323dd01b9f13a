/**
 * Hostile input against the real ingester on real Kafka and Redis, both paths, each case with its
 * exact answer: over HTTP the status, `reason` and `field` (a JSON pointer into the body); on the
 * raw topic the dead letter's reason and field. Never a 5xx, never a stuck consumer: after every
 * case a valid event still goes through, and the process is live. The defaults are asserted as
 * they ship: 16 KiB per event, context at most 8 levels, 64 keys, 4 KiB.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Producer } from '@confluentinc/kafka-javascript';
import { RejectReason, TOPICS, type DeadLetterV1, type EventV1 } from '@seqrec/contracts';
import { createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, readTopic, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { redisUrlFromEnv } from '@seqrec/redis/testing';
import type { RunningService } from '@seqrec/testing';
import { dropNamespaces, makeEvents, post, startServiceRetrying, tally } from './ingest-helpers';

const NOW = Date.now();
const valid = (eventId: string, extra: Record<string, unknown> = {}) => ({ eventId, userId: 'hostile-user', type: 'view', itemId: 'item-1', ts: NOW - 5_000, ...extra });
const nestedContext = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const eventWithContext = (eventId: string, context: string) =>
  `{"eventId":"${eventId}","userId":"hostile-user","type":"view","itemId":"item-1","ts":${NOW - 5_000},"context":${context}}`;
const flatKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

describe('hostile input: answered, never fatal', () => {
  const brokers = brokersFromEnv();
  const ns = uniqueName('hostile');
  const topic = (t: string) => `${ns}.${t}`;
  let ingester: RunningService;

  before(async () => {
    await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: topic(t), numPartitions: 2, replicationFactor: 1 })));
    ingester = await startServiceRetrying('ingester', { KAFKA_BROKERS: brokers.join(','), KAFKA_NAMESPACE: ns, REDIS_URL: redisUrlFromEnv(), REDIS_PREFIX: ns, LOG_LEVEL: 'error' });
  });

  after(async () => {
    await ingester?.stop();
    await dropNamespaces(brokers, [ns]);
  });

  describe('POST /v1/events', () => {
    /** One body, its exact answer. */
    const cases: Array<{ name: string; body: string | Buffer; status: number; reason: string; field: string; contentType?: string }> = [
      { name: 'an event whose context nests 2,500 levels', body: `[${eventWithContext('h1', nestedContext(2_500))}]`, status: 400, reason: RejectReason.TooDeep, field: '/0/context' },
      { name: 'context 9 levels deep (the limit is 8)', body: `[${eventWithContext('h2', nestedContext(9))}]`, status: 400, reason: RejectReason.TooDeep, field: '/0/context' },
      { name: 'a top-level array nested 8,000 deep', body: `[${'['.repeat(8_000)}${']'.repeat(8_000)}]`, status: 400, reason: RejectReason.TooDeep, field: '/0/0' },
      { name: 'a top-level array nested 300,000 deep (over the event limit)', body: `[${'['.repeat(300_000)}${']'.repeat(300_000)}]`, status: 400, reason: RejectReason.TooLarge, field: '/0' },
      { name: 'a 600 KB event', body: JSON.stringify([valid('h3', { blob: 'x'.repeat(600 * 1024) })]), status: 400, reason: RejectReason.TooLarge, field: '/0' },
      { name: 'an event of 16 KiB + 1 byte', body: `[${JSON.stringify(valid('h4', { pad: '' })).replace('"pad":""', `"pad":"${'x'.repeat(16_385 - JSON.stringify(valid('h4', { pad: '' })).length)}"`)}]`, status: 400, reason: RejectReason.TooLarge, field: '/0' },
      { name: 'context with 65 keys (the limit is 64)', body: JSON.stringify([valid('h5', { context: flatKeys(65) })]), status: 400, reason: RejectReason.TooManyKeys, field: '/0/context' },
      { name: 'context of 4 KiB + 1 byte as JSON', body: JSON.stringify([valid('h6', { context: { note: 'x'.repeat(4_097 - 11) } })]), status: 400, reason: RejectReason.TooLarge, field: '/0/context' },
      { name: 'a duplicate key', body: `[{"eventId":"h7","userId":"u","type":"view","type":"purchase","itemId":"i","ts":${NOW}}]`, status: 400, reason: RejectReason.DuplicateKey, field: '/0/type' },
      { name: 'a duplicate key in context', body: `[${eventWithContext('h8', '{"page":"a","page":"b"}')}]`, status: 400, reason: RejectReason.DuplicateKey, field: '/0/context/page' },
      { name: 'an id that is not UTF-8', body: Buffer.concat([Buffer.from('[{"eventId":"h9","userId":"u'), Buffer.from([0xff, 0xfe]), Buffer.from(`","type":"view","itemId":"i","ts":${NOW}}]`)]), status: 400, reason: RejectReason.InvalidEncoding, field: '/0' },
      { name: 'an id holding a lone surrogate', body: `[{"eventId":"h10","userId":"u\\ud800","type":"view","itemId":"i","ts":${NOW}}]`, status: 400, reason: RejectReason.InvalidEncoding, field: '/0/userId' },
      { name: 'a "__proto__" key', body: `[{"eventId":"h11","userId":"u","type":"view","itemId":"i","ts":${NOW},"__proto__":{"x":1}}]`, status: 400, reason: RejectReason.InvalidField, field: '/0/__proto__' },
      { name: 'an element that is not JSON', body: `[{"eventId": "h12" "userId":"u"}]`, status: 400, reason: RejectReason.InvalidJson, field: '/0' },
      { name: 'an element that is not an object', body: '[42]', status: 400, reason: RejectReason.NotAnObject, field: '/0' },
      { name: 'a body that is not an array', body: JSON.stringify(valid('h13')), status: 400, reason: 'not_an_array', field: 'body' },
      { name: 'a body whose brackets do not balance', body: `[${JSON.stringify(valid('h14'))}`, status: 400, reason: RejectReason.InvalidJson, field: 'body' },
      { name: 'an empty array', body: '[]', status: 400, reason: 'batch_size', field: 'body' },
      { name: '1,001 events', body: JSON.stringify(makeEvents('h15', 1_001)), status: 400, reason: 'batch_size', field: 'body' },
    ];

    for (const c of cases) {
      it(`${c.name}: ${c.status} ${c.reason} ${c.field}`, async () => {
        const r = await post(ingester.url, c.body, c.contentType ? { contentType: c.contentType } : {});
        assert.deepEqual([r.status, r.body.reason, r.body.field], [c.status, c.reason, c.field], JSON.stringify(r.body).slice(0, 400));
      });
    }

    it('a body over INGEST_MAX_BODY_BYTES (1 MiB): 413; not JSON: 415', async () => {
      assert.equal((await post(ingester.url, JSON.stringify([valid('big', { blob: 'x'.repeat(1_100_000) })]))).status, 413);
      assert.equal((await post(ingester.url, '[]', { contentType: 'text/plain' })).status, 415);
    });

    it('999 valid events and one nested thousands deep: 200, the 999 in once, the bad one rejected; the retry: 999 duplicates', async () => {
      const events = makeEvents('mix', 999);
      const body = `[${events.map((e) => JSON.stringify(e)).join(',')},${eventWithContext('mix-bad', nestedContext(2_500))}]`;
      const first = await post(ingester.url, body);
      assert.deepEqual([first.status, first.body.accepted, first.body.duplicates, first.body.rejected], [200, 999, 0, 1]);
      assert.deepEqual(first.body.results![999], { index: 999, eventId: 'mix-bad', status: 'rejected', reason: 'too_deep', field: '/context', detail: first.body.results![999]!.detail });
      const retry = await post(ingester.url, body);
      assert.deepEqual([retry.status, retry.body.accepted, retry.body.duplicates, retry.body.rejected], [200, 0, 999, 1]);
      const got = tally(await readTopic(brokers, topic(TOPICS.EVENTS), { count: 2_000, timeoutMs: 8_000 }));
      assert.deepEqual(events.filter((e) => got.get(e.eventId) !== 1).map((e) => e.eventId), []);
      assert.equal(got.get('mix-bad'), undefined);
    });

    it('a time-zone-less ISO timestamp is UTC', async () => {
      const r = await post(ingester.url, [valid('tz1', { ts: new Date(NOW - 60_000).toISOString().replace('Z', '') })]);
      assert.deepEqual([r.status, r.body.accepted], [200, 1]);
      const events = await readTopic(brokers, topic(TOPICS.EVENTS), { count: 1_000, timeoutMs: 5_000 });
      const tz = events.map((m) => JSON.parse(String(m.value)) as EventV1).find((e) => e.eventId === 'tz1');
      assert.equal(tz?.ts, NOW - 60_000);
    });

    it('every rejected element is on the dead-letter topic with its reason and field', async () => {
      const letters = (await readTopic(brokers, topic(TOPICS.EVENTS_DLQ), { count: 10_000, timeoutMs: 5_000 })).map((m) => JSON.parse(String(m.value)) as DeadLetterV1);
      const http = letters.filter((l) => l.source.kind === 'http');
      for (const [eventId, reason, field] of [
        ['h2', RejectReason.TooDeep, '/context'],
        ['h5', RejectReason.TooManyKeys, '/context'],
        ['h6', RejectReason.TooLarge, '/context'],
        ['h10', RejectReason.InvalidEncoding, '/userId'],
      ] as const) {
        const l = http.find((x) => x.eventId === eventId);
        assert.ok(l, `dead letter of ${eventId}`);
        assert.deepEqual([l.reason, l.field], [reason, field], eventId);
      }
      const large = http.find((l) => l.reason === RejectReason.TooLarge && (l.originalBytes ?? 0) > 600 * 1024);
      assert.ok(large?.truncated, 'the 600 KB event: a truncated original with its length and hash');
      assert.ok(Buffer.byteLength(JSON.stringify(large)) < 1_000_000);
    });

    it('answered no 5xx and is still live', async () => {
      assert.equal((await fetch(`${ingester.url}/health/live`)).status, 200);
      const metrics = await (await fetch(ingester.metricsUrl)).text();
      const fives = metrics.split('\n').filter((l) => /^seqrec_platform_http_requests_total\{route="\/v1\/events"[^}]*status="5\d\d"/.test(l));
      assert.deepEqual(fives, []);
    });
  });

  describe('the raw topic', () => {
    let producer: Producer;
    before(async () => {
      producer = new Producer({ 'bootstrap.servers': brokers.join(','), 'enable.idempotence': true, 'linger.ms': 2, 'message.max.bytes': 2_000_000 } as never);
      await new Promise<void>((res, rej) => producer.connect({}, (err) => (err ? rej(err) : res())));
      producer.setPollInBackground(true);
    });
    after(async () => {
      await new Promise<void>((r) => producer.disconnect(() => r()));
    });

    const raw: Array<{ name: string; value: Buffer | null; reason: RejectReason; field?: string }> = [
      { name: 'context nested 2,500 levels', value: Buffer.from(eventWithContext('r1', nestedContext(2_500))), reason: RejectReason.TooDeep, field: '/context' },
      { name: 'a top-level array nested 8,000 deep', value: Buffer.from(`${'['.repeat(8_000)}${']'.repeat(8_000)}`), reason: RejectReason.TooDeep, field: '/0' },
      { name: 'a 600 KB message', value: Buffer.from(JSON.stringify(valid('r2', { blob: 'é'.repeat(300 * 1024) }))), reason: RejectReason.TooLarge },
      { name: 'context with 65 keys', value: Buffer.from(JSON.stringify(valid('r3', { context: flatKeys(65) }))), reason: RejectReason.TooManyKeys, field: '/context' },
      { name: 'a duplicate key', value: Buffer.from(`{"eventId":"r4","userId":"u","type":"view","itemId":"i","itemId":"j","ts":${NOW}}`), reason: RejectReason.DuplicateKey, field: '/itemId' },
      { name: 'bytes that are not UTF-8', value: Buffer.concat([Buffer.from('{"eventId":"r5","userId":"'), Buffer.from([0xc3, 0x28]), Buffer.from(`","type":"view","itemId":"i","ts":${NOW}}`)]), reason: RejectReason.InvalidEncoding },
      { name: 'a lone surrogate in an id', value: Buffer.from(`{"eventId":"r6","userId":"u","type":"view","itemId":"\\udc00","ts":${NOW}}`), reason: RejectReason.InvalidEncoding, field: '/itemId' },
      { name: 'an empty message', value: null, reason: RejectReason.InvalidJson },
    ];

    it('dead-letters each with its reason and field, bounded, and keeps consuming', async () => {
      const send = (value: Buffer | null, key: string) => producer.produce(topic(TOPICS.CLICKSTREAM_RAW), null, value as Buffer, key);
      for (const c of raw) send(c.value, 'raw-user');
      send(Buffer.from(JSON.stringify(valid('r-after', { ts: new Date(NOW - 30_000).toISOString().replace('Z', '') }))), 'hostile-user');
      await new Promise<void>((r) => producer.flush(10_000, () => r()));
      const accepted = await waitFor(
        'the valid event sent after the hostile ones',
        async () => (await readTopic(brokers, topic(TOPICS.EVENTS), { count: 10_000, timeoutMs: 2_000 })).map((m) => JSON.parse(String(m.value)) as EventV1).find((e) => e.eventId === 'r-after'),
        30_000,
      );
      assert.equal(accepted.ts, NOW - 30_000, 'a time-zone-less ISO timestamp is UTC');
      // every hostile message went to one partition (one key), in order: so are their letters' sources
      const letters = (await readTopic(brokers, topic(TOPICS.EVENTS_DLQ), { count: 10_000, timeoutMs: 5_000 }))
        .map((m) => JSON.parse(String(m.value)) as DeadLetterV1)
        .filter((l) => l.source.kind === 'kafka')
        .sort((a, b) => Number((a.source as { offset: string }).offset) - Number((b.source as { offset: string }).offset));
      assert.equal(letters.length, raw.length);
      raw.forEach((c, i) => {
        const l = letters[i]!;
        assert.deepEqual([l.reason, l.field], [c.reason, c.field], c.name);
        const original = c.value ?? Buffer.alloc(0);
        const kept = l.original !== undefined ? Buffer.from(l.original, 'utf8') : Buffer.from(l.originalBase64 ?? '', 'base64');
        if (l.truncated) assert.equal(l.originalSha256, createHash('sha256').update(original).digest('hex'), c.name);
        else assert.ok(kept.equals(original), `${c.name}: the original payload`);
        assert.ok(Buffer.byteLength(JSON.stringify(l)) < 1_000_000, `${c.name}: bounded`);
      });
      const big = letters.find((l) => l.truncated);
      assert.deepEqual([big?.reason, big?.originalBytes], [RejectReason.TooLarge, raw[2]!.value!.length]);
      assert.equal((await fetch(`${ingester.url}/health/live`)).status, 200);
    });
  });
});
