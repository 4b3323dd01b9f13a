import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_NORMALIZE_OPTIONS, normalizeEvent, parseEvent, parseTimestamp, type RawEvent } from '@seqrec/contracts';
import { ClickstreamGenerator, recordToMessage, type GeneratedRecord } from './clickstream-generator';
import { MALFORMED_KINDS, type GeneratorOptions } from './options';
import { generateSequences } from './sequences';

const SESSION_TIMEOUT_MS = 30 * 60_000;

function newGenerator(options: GeneratorOptions = {}): ClickstreamGenerator {
  return new ClickstreamGenerator({ seed: 7, users: 2_000, items: 1_000, categories: 20, ...options });
}

function tsOf(e: RawEvent): number {
  const ts = parseTimestamp(e.ts);
  assert.ok(ts !== undefined, `bad ts ${String(e.ts)}`);
  return ts;
}

function byUser(events: RawEvent[]): Map<string, RawEvent[]> {
  const m = new Map<string, RawEvent[]>();
  for (const e of events) {
    let list = m.get(e.userId!);
    if (!list) m.set(e.userId!, (list = []));
    list.push(e);
  }
  return m;
}

describe(ClickstreamGenerator.name, () => {
  describe('determinism', () => {
    it('gives the same stream for the same seed and options', () => {
      const opts = { duplicateRate: 0.02, malformedRate: 0.02, lateRate: 0.02, isoTimestampRate: 0.1 };
      assert.deepEqual(newGenerator(opts).takeRecords(5_000), newGenerator(opts).takeRecords(5_000));
    });

    it('gives a different stream for a different seed', () => {
      const a = newGenerator({ seed: 1 }).take(200);
      const b = newGenerator({ seed: 2 }).take(200);
      assert.notDeepEqual(
        a.map((e) => [e.userId, e.itemId, e.type]),
        b.map((e) => [e.userId, e.itemId, e.type]),
      );
      assert.notEqual(a[0]!.eventId, b[0]!.eventId);
    });

    it('accepts string seeds', () => {
      assert.deepEqual(newGenerator({ seed: 'demo' }).take(100), newGenerator({ seed: 'demo' }).take(100));
      assert.notDeepEqual(newGenerator({ seed: 'demo' }).take(100), newGenerator({ seed: 'demo2' }).take(100));
    });

    it('keeps the clean stream unchanged whatever the fault rates', () => {
      const clean = newGenerator().take(3_000);
      const withFaults = newGenerator({ duplicateRate: 0.05, malformedRate: 0.05, lateRate: 0.05 }).take(3_000);
      assert.deepEqual(withFaults, clean);
    });

    it('yields the same events from take(), next() and the iterator', () => {
      const taken = newGenerator().take(500);
      const g = newGenerator();
      const iterated: RawEvent[] = [];
      for (const e of g) {
        iterated.push(e);
        if (iterated.length === 500) break;
      }
      assert.deepEqual(iterated, taken);
      const h = newGenerator();
      assert.deepEqual(
        Array.from({ length: 500 }, () => h.next()),
        taken,
      );
    });
  });

  describe('event shape', () => {
    it('passes normalizeEvent for every clean and late event, epoch and ISO timestamps alike', () => {
      const g = newGenerator({ isoTimestampRate: 0.2, lateRate: 0.05 });
      const records = g.takeRecords(20_000);
      const options = { ...DEFAULT_NORMALIZE_OPTIONS, now: () => g.clock };
      let iso = 0;
      for (const r of records) {
        assert.ok(r.kind === 'event' || r.kind === 'late');
        const result = normalizeEvent(JSON.parse(recordToMessage(r).value), options);
        assert.ok(result.ok, `rejected ${JSON.stringify(r.event)}: ${result.ok ? '' : result.rejection.detail}`);
        if (typeof r.event.ts === 'string') iso++;
      }
      assert.ok(iso > 2_000 && iso < 6_000, `ISO share off: ${iso}`);
    });

    it('puts a query on searches and an item id on every other type', () => {
      const events = newGenerator().take(20_000);
      const seen = new Set<string>();
      for (const e of events) {
        seen.add(e.type);
        if (e.type === 'search') {
          assert.equal(e.itemId, undefined);
          assert.ok(e.query && e.query.length > 0);
        } else {
          assert.match(e.itemId ?? '', /^i\d{5}$/);
          assert.equal(e.query, undefined);
        }
        assert.match(e.userId!, /^u\d{6}$/);
        assert.ok(e.sessionId?.startsWith(`${e.userId}-s`));
      }
      assert.deepEqual([...seen].sort(), ['add_to_cart', 'click', 'purchase', 'search', 'view']);
    });

    it('follows a search with a view of what was searched for, often what goes with the item just viewed', () => {
      const gen = newGenerator();
      const cat = gen.catalogue;
      const index = new Map(cat.itemIds.map((id, i) => [id, i]));
      const pending = new Map<string, { category: number; term: number; cur: number }>();
      const current = new Map<string, number>();
      let searches = 0;
      let matched = 0;
      let fromCurrent = 0;
      for (const e of gen.take(200_000)) {
        const user = e.userId!;
        if (e.type === 'search') {
          const q = cat.parseQuery(e.query!);
          assert.ok(q, `a query the catalogue made: ${e.query}`);
          pending.set(user, { ...q, cur: current.get(user) ?? -1 });
          continue;
        }
        const item = index.get(e.itemId!)!;
        const p = pending.get(user);
        if (e.type === 'view' && p) {
          pending.delete(user);
          searches++;
          if (cat.matches(item, p.category, p.term)) matched++;
          if (p.cur >= 0 && cat.nextItems(p.cur).includes(item)) fromCurrent++;
        }
        if (e.type === 'view') current.set(user, item);
      }
      assert.ok(searches > 500, `searches ${searches}`);
      assert.ok(matched / searches > 0.95, `views matching their search: ${matched} of ${searches}`);
      assert.ok(fromCurrent / searches > 0.05, `views after a search that follow the item before it: ${fromCurrent} of ${searches}`);
    });

    it('gives every record but duplicates a unique eventId', () => {
      const g = newGenerator({ duplicateRate: 0.02, malformedRate: 0.02, lateRate: 0.02 });
      const ids = new Set<string>();
      let unique = 0;
      for (const r of g.takeRecords(30_000)) {
        if (r.kind === 'duplicate') continue;
        const id = r.kind === 'malformed' ? `malformed-${unique}` : r.event.eventId;
        assert.ok(!ids.has(id), `duplicate id ${id}`);
        ids.add(id);
        unique++;
      }
      assert.equal(ids.size, unique);
    });
  });

  describe('behaviour', () => {
    it('skews item popularity: the top 1% of items get a large share of views', () => {
      const g = new ClickstreamGenerator({ seed: 3 });
      const counts = new Map<string, number>();
      let views = 0;
      for (const e of g.take(200_000)) {
        if (e.type !== 'view') continue;
        views++;
        counts.set(e.itemId!, (counts.get(e.itemId!) ?? 0) + 1);
      }
      const sorted = [...counts.values()].sort((a, b) => b - a);
      const top = sorted.slice(0, g.catalogue.size / 100).reduce((s, c) => s + c, 0);
      assert.ok(top / views > 0.25, `top 1% share ${top / views}`);
      // And the long tail is still visited.
      assert.ok(counts.size > g.catalogue.size * 0.8, `only ${counts.size} distinct items viewed`);
    });

    it('follows the funnel: every click, cart and purchase of an item comes after the steps before it in the session', () => {
      const events = newGenerator().take(50_000);
      const byType = new Map<string, number>();
      const done = new Map<string, Set<string>>();
      for (const e of events) {
        byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
        if (e.type === 'search') continue;
        const key = (type: string): string => `${e.sessionId}|${type}|${e.itemId}`;
        const has = (type: string): boolean => done.get(e.sessionId!)?.has(key(type)) ?? false;
        if (e.type === 'click') assert.ok(has('view'), `click without view: ${JSON.stringify(e)}`);
        if (e.type === 'add_to_cart') assert.ok(has('click') && has('view'), `cart without click: ${JSON.stringify(e)}`);
        if (e.type === 'purchase') assert.ok(has('add_to_cart') && has('click') && has('view'), `purchase without cart: ${JSON.stringify(e)}`);
        let s = done.get(e.sessionId!);
        if (!s) done.set(e.sessionId!, (s = new Set()));
        s.add(key(e.type));
      }
      const n = (t: string): number => byType.get(t) ?? 0;
      assert.ok(n('view') > n('click') && n('click') > n('add_to_cart') && n('add_to_cart') > n('purchase') && n('purchase') > 0);
    });

    it('keeps each user in time order, splits sessions on 30 min of inactivity, and interleaves users', () => {
      const events = newGenerator({ isoTimestampRate: 0.3 }).take(50_000);
      let globalPrev = -Infinity;
      for (const e of events) {
        const ts = tsOf(e);
        assert.ok(ts >= globalPrev, 'the clean stream is globally in time order');
        globalPrev = ts;
      }
      let sessionChanges = 0;
      for (const list of byUser(events).values()) {
        for (let i = 1; i < list.length; i++) {
          const gap = tsOf(list[i]!) - tsOf(list[i - 1]!);
          assert.ok(gap > 0, `user ${list[i]!.userId} not strictly increasing`);
          if (list[i]!.sessionId === list[i - 1]!.sessionId) assert.ok(gap < SESSION_TIMEOUT_MS, `in-session gap ${gap}`);
          else {
            sessionChanges++;
            assert.ok(gap > SESSION_TIMEOUT_MS, `between-session gap ${gap}`);
          }
        }
      }
      assert.ok(sessionChanges > 100);
      // Concurrency: 1,000 consecutive events come from many users (about 120 with 2,000 users).
      assert.ok(new Set(events.slice(20_000, 21_000).map((e) => e.userId)).size > 60);
    });

    it('has learnable structure: a first-order Markov model beats popularity clearly on HR@10', () => {
      const sequences = generateSequences({ seed: 11, events: 300_000 });
      const transitions = new Map<string, Map<string, number>>();
      const popularity = new Map<string, number>();
      const tests: Array<[string, string]> = [];
      for (const seq of sequences.values()) {
        const cut = Math.floor(seq.length * 0.8);
        for (let i = 0; i < seq.length; i++) {
          if (i < cut) {
            popularity.set(seq[i]!, (popularity.get(seq[i]!) ?? 0) + 1);
            if (i > 0) {
              let row = transitions.get(seq[i - 1]!);
              if (!row) transitions.set(seq[i - 1]!, (row = new Map()));
              row.set(seq[i]!, (row.get(seq[i]!) ?? 0) + 1);
            }
          } else if (i > 0) tests.push([seq[i - 1]!, seq[i]!]);
        }
      }
      const top = (m: Map<string, number>, k: number): string[] =>
        [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, k).map(([item]) => item);
      const popTop = top(popularity, 10);
      let popHits = 0;
      let markovHits = 0;
      for (const [prev, next] of tests) {
        if (popTop.includes(next)) popHits++;
        const recs = top(transitions.get(prev) ?? new Map(), 10);
        for (const item of popTop) if (recs.length < 10 && !recs.includes(item)) recs.push(item);
        if (recs.includes(next)) markovHits++;
      }
      assert.ok(tests.length > 10_000, `only ${tests.length} test transitions`);
      const popHr = popHits / tests.length;
      const markovHr = markovHits / tests.length;
      assert.ok(markovHr > 2 * popHr && markovHr - popHr > 0.2, `Markov HR@10 ${markovHr} vs popularity ${popHr}`);
    });
  });

  describe('fault injection', () => {
    it('emits duplicates at roughly the configured rate, each a copy of an earlier clean event', () => {
      const g = newGenerator({ duplicateRate: 0.05 });
      const seen = new Map<string, RawEvent>();
      let dups = 0;
      const n = 40_000;
      for (const r of g.takeRecords(n)) {
        if (r.kind === 'event') seen.set(r.event.eventId, r.event);
        else {
          assert.equal(r.kind, 'duplicate');
          dups++;
          assert.deepEqual(r.event, seen.get(r.event.eventId));
          assert.notEqual(r.event, seen.get(r.event.eventId), 'a copy, not the same object');
        }
      }
      assert.ok(Math.abs(dups / n - 0.05) < 0.01, `duplicate share ${dups / n}`);
      assert.equal(g.counts.duplicates, dups);
    });

    it('emits malformed payloads that parseEvent rejects with the expected reason, of every kind', () => {
      const g = newGenerator({ malformedRate: 0.1 });
      const whys = new Set<string>();
      const options = { ...DEFAULT_NORMALIZE_OPTIONS, now: () => g.clock };
      let malformed = 0;
      for (const r of g.takeRecords(20_000)) {
        if (r.kind !== 'malformed') continue;
        malformed++;
        whys.add(r.why);
        assert.ok(!r.payload.includes('\n'), 'one line per payload');
        const result = parseEvent(r.payload, options);
        assert.equal(result.ok, false, `${r.why} accepted: ${r.payload.slice(0, 200)}`);
        if (!result.ok) assert.equal(result.rejection.reason, r.expected, `${r.why}: ${result.rejection.detail}`);
      }
      assert.ok(Math.abs(malformed / 20_000 - 0.1) < 0.015, `malformed share ${malformed / 20_000}`);
      assert.deepEqual([...whys].sort(), [...MALFORMED_KINDS].sort());
    });

    it('restricts malformations to the chosen kinds', () => {
      const records = newGenerator({ malformedRate: 0.2, malformedKinds: ['missing_user_id'] }).takeRecords(2_000);
      const whys = new Set(records.flatMap((r) => (r.kind === 'malformed' ? [r.why] : [])));
      assert.deepEqual([...whys], ['missing_user_id']);
    });

    it('emits late events stamped 1 s to lateMaxMs before the same user\'s previous event', () => {
      const g = newGenerator({ lateRate: 0.05, lateMaxMs: 120_000 });
      const last = new Map<string, number>();
      let late = 0;
      for (const r of g.takeRecords(20_000) as GeneratedRecord[]) {
        if (r.kind === 'event') last.set(r.event.userId!, tsOf(r.event));
        else if (r.kind === 'late') {
          late++;
          const behind = last.get(r.event.userId!)! - tsOf(r.event);
          assert.ok(behind >= 1_000 && behind <= 120_000, `late by ${behind}`);
          assert.equal(r.event.type, 'view');
        }
      }
      assert.ok(late > 700 && late < 1_300, `late count ${late}`);
    });
  });

  describe('options', () => {
    it('rejects invalid options with every problem named', () => {
      assert.throws(
        () => new ClickstreamGenerator({ users: 0, transitionProb: 2, duplicateRate: 0.6, malformedRate: 0.6 }),
        (err: unknown) =>
          err instanceof RangeError &&
          /users/.test(err.message) &&
          /transitionProb/.test(err.message) &&
          /below 1/.test(err.message),
      );
      assert.throws(() => new ClickstreamGenerator({ startTime: 'not a date' }), RangeError);
      assert.throws(() => new ClickstreamGenerator({ idPrefix: 'has space' }), RangeError);
    });

    it('starts at startTime and uses idPrefix for event ids', () => {
      const start = Date.UTC(2026, 1, 3);
      const events = newGenerator({ startTime: new Date(start).toISOString(), idPrefix: 'bench-1' }).take(1_000);
      assert.ok(events.every((e) => tsOf(e) >= start && tsOf(e) < start + 7 * 86_400_000));
      assert.ok(events.every((e) => e.eventId.startsWith('bench-1-')));
    });

    it('leaves out context when asked', () => {
      assert.ok(newGenerator({ context: false }).take(100).every((e) => e.context === undefined));
    });

    it('estimates the simulated span of a stream within a factor of two', () => {
      const g = newGenerator();
      const start = g.clock;
      g.take(100_000);
      const actual = g.clock - start;
      const estimate = g.estimateSpanMs(100_000);
      assert.ok(estimate > actual / 2 && estimate < actual * 2, `estimate ${estimate} vs ${actual}`);
    });
  });
});

describe(generateSequences.name, () => {
  it('returns per-user item sequences of the chosen types without immediate repeats', () => {
    const seqs = generateSequences({ seed: 5, users: 500, items: 800, events: 20_000, types: ['view', 'purchase'] });
    assert.ok(seqs.size > 100);
    for (const seq of seqs.values()) {
      for (let i = 1; i < seq.length; i++) assert.notEqual(seq[i], seq[i - 1]);
    }
    assert.deepEqual(seqs, generateSequences({ seed: 5, users: 500, items: 800, events: 20_000, types: ['view', 'purchase'] }));
  });
});
