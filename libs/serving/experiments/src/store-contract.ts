import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ExperimentConfig } from './config';
import type { ExperimentStore, Feedback, JoinSettings } from './store';

/**
 * The behaviour every {@link ExperimentStore} must have, run against the in-memory store (unit) and
 * the Redis store on a single server and a Cluster (integration). `fresh` gives an empty store.
 */
export function experimentStoreContract(fresh: () => Promise<ExperimentStore>): void {
  const config: ExperimentConfig = { id: 'exp1', variants: [{ name: 'a', share: 1 }, { name: 'b', share: 1 }], holdout: 0.1 };
  const s = (now = 1_000_000): JoinSettings => ({ k: 3, ttlMs: 60_000, now });
  const imp = (requestId: string, variant: string, subject: string, items: string[], ts = 1_000_000) => ({ requestId, variant, subject, items, ts });
  let n = 0;
  const fb = (type: Feedback['type'], subject: string, itemId: string, extra: Partial<Feedback> = {}): Feedback => ({
    eventId: `e${++n}`,
    type,
    subject,
    itemId,
    revenue: 0,
    ts: 1_000_500,
    ...extra,
  });

  it('keeps one active experiment, its history, and continues an id started again', async () => {
    const store = await fresh();
    assert.equal(await store.active(), null);
    await store.start(config, 100);
    assert.deepEqual((await store.active())?.config, config);
    await store.start({ ...config, id: 'exp2' }, 200);
    assert.equal((await store.active())?.config.id, 'exp2');
    const hist = await store.history();
    assert.deepEqual(
      hist.map((r) => [r.config.id, r.startedAt, r.stoppedAt]),
      [
        ['exp2', 200, undefined],
        ['exp1', 100, 200],
      ],
    );
    assert.equal(await store.stop('exp1', 300), false, 'not the active one');
    assert.equal(await store.stop('exp2', 300), true);
    assert.equal(await store.active(), null);
    const again = await store.start({ ...config, holdout: 0 }, 400);
    assert.equal(again.startedAt, 100, 'the same id continues');
    assert.equal(again.config.holdout, 0);
  });

  it('counts an impression once per request id and joins clicks by request id, CTR@K once per impression', async () => {
    const store = await fresh();
    await store.start(config, 1);
    assert.equal((await store.recordImpression('exp1', imp('r1', 'a', 'u:1', ['i1', 'i2', 'i3', 'i4']), s())).counted, true);
    assert.equal((await store.recordImpression('exp1', imp('r1', 'a', 'u:1', ['i1', 'i2', 'i3', 'i4']), s())).counted, false, 'a redelivery');
    const c1 = fb('click', 'u:1', 'i2', { requestId: 'r1' });
    const o1 = await store.recordFeedback('exp1', c1, s());
    assert.deepEqual(o1, { status: 'joined', type: 'click', variant: 'a', position: 2, attribution: 'request_id', newlyClicked: true, newlyConverted: false, revenue: 0 });
    assert.deepEqual(await store.recordFeedback('exp1', c1, s()), { status: 'duplicate' });
    const o2 = await store.recordFeedback('exp1', fb('click', 'u:1', 'i3', { requestId: 'r1' }), s());
    assert.equal(o2.status === 'joined' && o2.newlyClicked, false, 'the impression was clicked already');
    const o3 = await store.recordFeedback('exp1', fb('click', 'u:1', 'i9', { requestId: 'r1' }), s());
    assert.deepEqual(o3, { status: 'unattributed' }, 'an item not shown');
    const o4 = await store.recordFeedback('exp1', fb('click', 'u:2', 'i2', { requestId: 'r1' }), s());
    assert.deepEqual(o4, { status: 'unattributed' }, 'another subject naming the request');
    const counts = await store.counts('exp1');
    assert.deepEqual(counts.a, { impressions: 1, clickedImpressions: 1, clicks: 2, clickPositionSum: 5, convertedImpressions: 0, revenue: 0, revenueSq: 0, carts: 0 });
  });

  it('a click below position K counts as a click but not for CTR@K', async () => {
    const store = await fresh();
    await store.start(config, 1);
    await store.recordImpression('exp1', imp('r1', 'b', 'u:1', ['i1', 'i2', 'i3', 'i4']), s());
    const o = await store.recordFeedback('exp1', fb('click', 'u:1', 'i4', { requestId: 'r1' }), s());
    assert.equal(o.status === 'joined' && o.newlyClicked, false);
    assert.equal((await store.counts('exp1')).b?.clickedImpressions, 0);
    assert.equal((await store.counts('exp1')).b?.clicks, 1);
  });

  it('attributes feedback without a request id to the newest impression of the subject that showed the item', async () => {
    const store = await fresh();
    await store.start(config, 1);
    await store.recordImpression('exp1', imp('r1', 'a', 'u:1', ['i1', 'i2']), s());
    await store.recordImpression('exp1', imp('r2', 'b', 'u:1', ['i3', 'i1']), s());
    const o = await store.recordFeedback('exp1', fb('click', 'u:1', 'i1'), s());
    assert.equal(o.status, 'joined');
    assert.equal(o.status === 'joined' && o.variant, 'b');
    assert.equal(o.status === 'joined' && o.position, 2);
    assert.equal(o.status === 'joined' && o.attribution, 'subject_item');
    const o2 = await store.recordFeedback('exp1', fb('click', 'u:1', 'i2'), s());
    assert.equal(o2.status === 'joined' && o2.variant, 'a');
    assert.deepEqual(await store.recordFeedback('exp1', fb('click', 'u:1', 'i7'), s()), { status: 'unattributed' });
    assert.deepEqual(await store.recordFeedback('exp1', fb('click', 'u:9', 'i1'), s()), { status: 'unattributed' });
    const early = await store.recordFeedback('exp1', fb('click', 'u:1', 'i1', { ts: 1_000_000 - 120_000 }), s());
    assert.deepEqual(early, { status: 'unattributed' }, 'an event stamped well before the impression');
  });

  it('joins feedback that arrives before its impression when the impression comes', async () => {
    const store = await fresh();
    await store.start(config, 1);
    assert.deepEqual(await store.recordFeedback('exp1', fb('click', 'u:1', 'i2', { requestId: 'r1' }), s()), { status: 'pending' });
    assert.deepEqual(await store.recordFeedback('exp1', fb('purchase', 'u:1', 'i2', { requestId: 'r1', revenue: 12.5 }), s()), { status: 'pending' });
    assert.deepEqual(await store.recordFeedback('exp1', fb('click', 'u:2', 'i1', { requestId: 'r1' }), s()), { status: 'pending' });
    const r = await store.recordImpression('exp1', imp('r1', 'a', 'u:1', ['i1', 'i2']), s());
    assert.equal(r.counted, true);
    assert.deepEqual(
      r.joined.map((o) => (o.status === 'joined' ? [o.type, o.position, o.newlyClicked, o.newlyConverted, o.revenue] : o.status)),
      [
        ['click', 2, true, false, 0],
        ['purchase', 2, false, true, 12.5],
      ],
      "the other subject's click is not joined",
    );
    const c = (await store.counts('exp1')).a!;
    assert.equal(c.clickedImpressions, 1);
    assert.equal(c.convertedImpressions, 1);
    assert.equal(c.revenue, 12.5);
  });

  it('sums revenue per impression and its square for the variance, one conversion per impression', async () => {
    const store = await fresh();
    await store.start(config, 1);
    await store.recordImpression('exp1', imp('r1', 'a', 'u:1', ['i1', 'i2']), s());
    await store.recordImpression('exp1', imp('r2', 'a', 'u:2', ['i1', 'i2']), s());
    await store.recordFeedback('exp1', fb('add_to_cart', 'u:1', 'i1', { requestId: 'r1' }), s());
    await store.recordFeedback('exp1', fb('purchase', 'u:1', 'i1', { requestId: 'r1', revenue: 3 }), s());
    await store.recordFeedback('exp1', fb('purchase', 'u:1', 'i2', { requestId: 'r1', revenue: 4 }), s());
    await store.recordFeedback('exp1', fb('purchase', 'u:2', 'i2', { requestId: 'r2', revenue: 1.5 }), s());
    const c = (await store.counts('exp1')).a!;
    assert.equal(c.convertedImpressions, 2);
    assert.equal(c.carts, 1);
    assert.ok(Math.abs(c.revenue - 8.5) < 1e-9);
    assert.ok(Math.abs(c.revenueSq - (7 * 7 + 1.5 * 1.5)) < 1e-9, `revenueSq ${c.revenueSq}`);
  });

  it('keeps the running minimum p-value of each comparison over looks', async () => {
    const store = await fresh();
    assert.deepEqual(await store.recordLooks('exp1', { 'b:ctr': 0.4, 'b:conversion': 0.9 }), { 'b:ctr': 0.4, 'b:conversion': 0.9 });
    assert.deepEqual(await store.recordLooks('exp1', { 'b:ctr': 0.7, 'b:conversion': 0.2 }), { 'b:ctr': 0.4, 'b:conversion': 0.2 });
    assert.deepEqual(await store.looks('exp1'), { 'b:ctr': 0.4, 'b:conversion': 0.2 });
  });

  it("erases a subject's impressions from every experiment, keeping the counts", async () => {
    const store = await fresh();
    await store.start(config, 1);
    await store.recordImpression('exp1', imp('r1', 'a', 'u:1', ['i1']), s());
    await store.start({ ...config, id: 'exp2' }, 2);
    await store.recordImpression('exp2', imp('r2', 'a', 'u:1', ['i1']), s());
    await store.recordImpression('exp2', imp('r3', 'a', 'u:2', ['i1']), s());
    assert.equal(await store.eraseSubject('u:1'), 2);
    assert.deepEqual(await store.recordFeedback('exp2', fb('click', 'u:1', 'i1'), s()), { status: 'unattributed' });
    assert.deepEqual(await store.recordFeedback('exp2', fb('click', 'u:1', 'i1', { requestId: 'r2' }), s()), { status: 'pending' }, 'the impression is gone');
    assert.equal((await store.recordFeedback('exp2', fb('click', 'u:2', 'i1'), s())).status, 'joined');
    assert.equal((await store.counts('exp2')).a?.impressions, 2);
    assert.equal(await store.eraseSubject('u:1'), 0);
  });

  it('records a batch with the same outcomes as one by one, a duplicate inside the batch included', async () => {
    const store = await fresh();
    await store.start(config, 1);
    const imps = [imp('r1', 'a', 'u:1', ['i1', 'i2']), imp('r2', 'b', 'u:2', ['i3']), imp('r1', 'a', 'u:1', ['i1', 'i2'])];
    const pending = fb('click', 'u:3', 'i5', { requestId: 'r3' });
    assert.deepEqual((await store.recordFeedbacks('exp1', [pending], s())).map((o) => o.status), ['pending']);
    const counted = await store.recordImpressions('exp1', [...imps, imp('r3', 'a', 'u:3', ['i5'])], s());
    assert.deepEqual(counted.map((r) => [r.counted, r.joined.length]), [[true, 0], [true, 0], [false, 0], [true, 1]]);
    const c1 = fb('click', 'u:1', 'i2', { requestId: 'r1' });
    const got = await store.recordFeedbacks('exp1', [c1, fb('click', 'u:2', 'i3'), { ...c1 }, fb('click', 'u:2', 'i9')], s());
    assert.deepEqual(got.map((o) => (o.status === 'joined' ? `${o.variant}@${o.position}:${o.attribution}` : o.status)), ['a@2:request_id', 'b@1:subject_item', 'duplicate', 'unattributed']);
    assert.deepEqual(await store.recordImpressions('exp1', [], s()), []);
    const counts = await store.counts('exp1');
    assert.equal(counts.a?.impressions, 2);
    assert.equal(counts.a?.clicks, 2);
    assert.equal(counts.b?.clicks, 1);
  });
}
