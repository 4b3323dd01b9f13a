/**
 * Property-based fuzzing (fast-check) of validation and of the whole ingest path.
 *
 * Validation (`parseEvent` / `normalizeEvent` of @seqrec/contracts), in process:
 * - neither ever throws, whatever the input (bytes, text, any JSON value, nesting thousands deep,
 *   lone surrogates), and every answer is an event or a rejection with a known reason;
 * - a well-formed event (every field within the documented limits) is accepted with its fields
 *   kept, unknown fields moved to `context`, `ts` in epoch ms; a normalised event normalises to
 *   itself;
 * - `parseEvent` (the bytes of an event, as both paths read them) and `normalizeEvent` (a parsed
 *   value) accept the same inputs and make the same event of them.
 *
 * The whole ingest path: generated `POST /v1/events` requests (well-formed events, hostile ones,
 * duplicate eventIds inside a request, retries of earlier requests, bodies that are not arrays or
 * not JSON) against a running ingester and sequence-builder on real Kafka and Redis:
 * - every answer is 2xx or 4xx, never 5xx, and a 200 says what became of each event;
 * - a fresh well-formed event is accepted (of its copies in one request, exactly one), an event
 *   already accepted is a duplicate;
 * - then the stream oracle: every event told accepted (or duplicate) is on the events topic exactly
 *   once, and every user's window holds each of its events exactly once.
 *
 * Cases: SEQREC_FUZZ_RUNS per validation property (CI 5,000, `npm run fuzz` 100,000) and
 * SEQREC_FUZZ_HTTP_RUNS requests (CI 2,000, `npm run fuzz` 20,000, each 1 to 20 events).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVENT_TYPES, RejectReason, normalizeEvent, parseEvent, type EventV1 } from '@seqrec/contracts';
import fc from 'fast-check';
import { FUZZ_RUNS, announce, pick, scenarioSeed } from './lib/config';
import { FaultInfra } from './lib/infra';
import type { LoadEvent } from './lib/load';
import { compareTopic, compareWindows, describeVerdict, holds, readEvents, type StreamVerdict } from './lib/oracle';
import { recordResult, since } from './lib/results';
import { replayHint } from './lib/scenario';
import { Stack } from './lib/stack';

announce('fuzz');

const HTTP_RUNS = Number(process.env.SEQREC_FUZZ_HTTP_RUNS ?? pick(2_000, 20_000));
const NOW = Date.now();
const DAY = 86_400_000;
const REASONS = new Set<string>(Object.values(RejectReason));

/** fast-check's seed for a property: the run's seed mixed with the property's name. */
const seedOf = (name: string) => scenarioSeed(name) | 0;

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const idChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.'.split(''));
const asciiId = (max: number) => fc.string({ unit: idChars, minLength: 1, maxLength: max });
/** An object key a well-formed event may use (`__proto__` is rejected by design: docs/api.md, reject reasons). */
const safeKey = (max: number) => asciiId(max).filter((k) => k !== '__proto__');
const users = Array.from({ length: 150 }, (_, i) => `fz-user-${i}`);
const items = Array.from({ length: 400 }, (_, i) => `fz-item-${i}`);
const KNOWN = new Set(['eventId', 'userId', 'sessionId', 'type', 'itemId', 'query', 'ts', 'context']);

/** A small JSON value: what a shop puts in `context` (at most 2 levels, a few keys, short strings). */
const smallJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 20 }), fc.constant(null)),
  node: fc.oneof({ depthSize: 'small', maxDepth: 2 }, tie('leaf'), fc.array(tie('leaf'), { maxLength: 4 }), fc.dictionary(safeKey(10), tie('leaf'), { maxKeys: 4 })),
})).node;

const timestamp = fc.integer({ min: NOW - 30 * DAY, max: NOW - 1_000 });

/** An event valid by construction, within every documented limit; `eventId` unique per case. */
const wellFormed = fc
  .record({
    id: asciiId(40),
    userId: fc.constantFrom(...users),
    type: fc.constantFrom(...EVENT_TYPES),
    itemId: fc.constantFrom(...items),
    query: fc.string({ unit: idChars, minLength: 1, maxLength: 40 }),
    ts: timestamp,
    isoTs: fc.boolean(),
    sessionId: fc.option(asciiId(20), { nil: undefined }),
    context: fc.option(fc.dictionary(safeKey(12), smallJson, { maxKeys: 5 }), { nil: undefined }),
    extra: fc.dictionary(safeKey(12).filter((k) => !KNOWN.has(k)), fc.oneof(fc.string({ maxLength: 20 }), fc.integer()), { maxKeys: 2 }),
  })
  .map((g) => {
    const e: Record<string, unknown> = { ...g.extra, eventId: g.id, userId: g.userId, type: g.type, ts: g.isoTs ? new Date(g.ts).toISOString() : g.ts };
    if (g.type === 'search') e.query = g.query;
    else e.itemId = g.itemId;
    if (g.sessionId !== undefined) e.sessionId = g.sessionId;
    if (g.context !== undefined) e.context = g.context;
    // as a producer's JSON encoder and the server's parser see it (plain objects, no -0)
    return JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
  });

/**
 * Arrays or objects nested `depth` deep around a leaf. Kept as a marker (JSON.stringify recurses and
 * would overflow the stack here): {@link toJson} writes its text, {@link materialize} parses it.
 */
class Deep {
  constructor(
    readonly depth: number,
    readonly arrays: boolean,
  ) {}

  text(): string {
    return this.arrays ? `${'['.repeat(this.depth)}"x"${']'.repeat(this.depth)}` : `${'{"k":'.repeat(this.depth)}"x"${'}'.repeat(this.depth)}`;
  }
}
const nested = fc.record({ depth: fc.integer({ min: 1, max: 5_000 }), arrays: fc.boolean() }).map(({ depth, arrays }) => new Deep(depth, arrays));

/** JSON text of a generated value (its {@link Deep} parts written out). */
function toJson(value: unknown): string {
  const deep: Deep[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => (v instanceof Deep ? `\u0000deep${deep.push(v) - 1}\u0000` : v)) ?? 'null';
  return deep.length === 0 ? text : text.replace(/"\\u0000deep(\d+)\\u0000"/g, (_m, i: string) => deep[Number(i)]!.text());
}

/** The value a JSON parser makes of a generated one. */
const materialize = (value: unknown): unknown => JSON.parse(toJson(value));

/** Strings that are hard on ids: lone surrogates, control characters, very long. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('\ud800', '\udfff', 'a\ud800b', '\u0000', '', ' ', '\u202e', '𝕏'.repeat(3)),
  fc.integer({ min: 129, max: 20_000 }).map((n) => 'x'.repeat(n)),
);

/** A well-formed event spoiled one way: a field replaced by something hostile or of the wrong kind, a deep context, junk fields. */
const hostileEvent = fc.oneof(
  fc.tuple(wellFormed, fc.constantFrom('eventId', 'userId', 'itemId', 'sessionId', 'type', 'query', 'ts', 'context'), fc.oneof(hostileString, fc.jsonValue({ maxDepth: 3 }), nested)).map(([e, k, v]) => ({ ...e, [k]: v })),
  fc.tuple(wellFormed, nested).map(([e, n]) => ({ ...e, context: { deep: n } })),
  fc.tuple(wellFormed, fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 80 })).map(([e, junk]) => ({ ...junk, ...e })),
  fc.tuple(wellFormed, fc.integer({ min: 1_000, max: 40_000 })).map(([e, n]) => ({ ...e, context: { blob: 'y'.repeat(n) } })),
  fc.jsonValue({ maxDepth: 4 }),
  nested,
);

// ---------------------------------------------------------------------------------------------
// Validation properties
// ---------------------------------------------------------------------------------------------

function checkShape(r: ReturnType<typeof normalizeEvent>): void {
  if (r.ok) {
    assert.equal(typeof r.event.eventId, 'string');
    assert.equal(typeof r.event.userId, 'string');
    assert.ok(EVENT_TYPES.includes(r.event.type), `type ${String(r.event.type)}`);
    assert.ok(Number.isSafeInteger(r.event.ts) && r.event.ts >= 0, `ts ${r.event.ts}`);
    if (r.event.type === 'search') assert.equal(r.event.itemId, undefined, 'a search has no itemId');
    else assert.equal(typeof r.event.itemId, 'string');
  } else {
    assert.ok(REASONS.has(r.rejection.reason), `unknown reason ${r.rejection.reason}`);
    assert.equal(typeof r.rejection.detail, 'string');
    assert.ok(r.rejection.detail.length > 0, 'a rejection says why');
    if (r.rejection.field !== undefined) assert.ok(r.rejection.field.startsWith('/'), `field ${r.rejection.field} is a JSON pointer`);
  }
}

/** What failed (the predicate's own message first), the counterexample and how to replay it. */
function failureText<Ts>(out: fc.RunDetails<Ts>): string {
  const why = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance ?? '');
  return `${why.slice(0, 1_500)}\n${fc.defaultReportMessage(out) ?? ''}`;
}

/** Deep equality of JSON values, without recursion (values may be nested thousands deep). */
function sameJson(a: unknown, b: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x);
    const ky = Object.keys(y);
    if (kx.length !== ky.length) return false;
    for (const k of kx) {
      if (!Object.prototype.hasOwnProperty.call(y, k)) return false;
      stack.push([(x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]]);
    }
  }
  return true;
}

/** Runs a property, records it as a result row, and asserts it. */
function runProperty<Ts>(name: string, fault: string, prop: fc.IProperty<Ts>, runs: number): void {
  const t0 = Date.now();
  const out = fc.check(prop, { numRuns: runs, seed: seedOf(name) });
  const failure = out.failed ? failureText(out) : undefined;
  recordResult({
    scenario: name,
    fault,
    repetitions: 1,
    faults: 0,
    events: out.numRuns,
    lost: { topic: 0, windows: 0 },
    duplicated: { topic: 0, windows: 0 },
    seconds: since(t0),
    passed: !out.failed,
    notes: `${out.numRuns} generated cases${failure ? `; FAILED: ${failure.split('\n').slice(0, 3).join(' ').slice(0, 400)}` : ''}`,
  });
  if (failure) assert.fail(`${name}: ${replayHint(name)}\n${failure.slice(0, 6_000)}`);
}

describe('fuzz: validation (parseEvent / normalizeEvent)', () => {
  it('never throws, and answers an event or a rejection with a known reason', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.jsonValue({ maxDepth: 5 }).map((v) => toJson(v)),
      nested.map((v) => toJson(v)),
      hostileEvent.map((v) => toJson(v)),
      wellFormed.map((v) => toJson(v)),
    );
    runProperty(
      'fuzz-validation-total',
      'validation: any bytes or text (parseEvent) and any JSON value (normalizeEvent) never throw',
      fc.property(input, hostileEvent, (bytes, value) => {
        checkShape(parseEvent(bytes));
        checkShape(normalizeEvent(materialize(value)));
      }),
      FUZZ_RUNS,
    );
  });

  it('accepts every well-formed event, keeps its fields, and a normalised event normalises to itself', () => {
    runProperty(
      'fuzz-validation-well-formed',
      'validation: well-formed events accepted, fields kept, normalisation idempotent',
      fc.property(wellFormed, (e) => {
        const r = normalizeEvent(e);
        assert.ok(r.ok, `rejected a well-formed event: ${JSON.stringify(r)} for ${JSON.stringify(e)}`);
        const ev = r.event;
        assert.equal(ev.eventId, e.eventId);
        assert.equal(ev.userId, e.userId);
        assert.equal(ev.type, e.type);
        assert.equal(ev.ts, typeof e.ts === 'number' ? e.ts : Date.parse(e.ts as string));
        if (e.type === 'search') assert.equal(ev.query, e.query);
        else assert.equal(ev.itemId, e.itemId);
        for (const k of Object.keys(e)) if (!KNOWN.has(k)) assert.deepEqual(ev.context?.[k], e[k], `unknown field ${k} kept in context`);
        const again = normalizeEvent(JSON.parse(JSON.stringify(ev)));
        assert.ok(again.ok);
        assert.ok(sameJson(again.event, ev), 'normalising a normalised event changes nothing');
      }),
      FUZZ_RUNS,
    );
  });

  it('parseEvent (bytes) and normalizeEvent (a parsed value) accept the same events, and the same way', () => {
    runProperty(
      'fuzz-validation-bytes-vs-value',
      'validation: parseEvent(JSON text) and normalizeEvent(the parsed value) accept the same inputs and make the same event',
      fc.property(fc.oneof(wellFormed, hostileEvent), (x) => {
        const text = toJson(x);
        // size limits apply to bytes (parseEvent) only: compare below them
        fc.pre(Buffer.byteLength(text) < 8_192);
        const a = parseEvent(text);
        const b = normalizeEvent(JSON.parse(text));
        // both may reject for different reasons when an input breaks several rules (their checks
        // run in a different order); what they accept, and how, must be the same
        const say = (r: typeof a) => (r.ok ? 'accepted' : `${r.rejection.reason} ${r.rejection.field ?? ''}`);
        assert.equal(a.ok, b.ok, `parseEvent: ${say(a)}; normalizeEvent: ${say(b)}`);
        if (a.ok && b.ok) assert.ok(sameJson(a.event, b.event), 'the same event either way');
      }),
      FUZZ_RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The whole ingest path over HTTP
// ---------------------------------------------------------------------------------------------

type Item = { kind: 'good'; event: Record<string, unknown> } | { kind: 'hostile'; value: unknown };
type Request = { kind: 'events'; items: Item[] } | { kind: 'retry'; pick: number } | { kind: 'body'; text: string; contentType: string };

const itemArb: fc.Arbitrary<Item> = fc.oneof(
  { weight: 6, arbitrary: wellFormed.map((event): Item => ({ kind: 'good', event })) },
  { weight: 3, arbitrary: hostileEvent.map((value): Item => ({ kind: 'hostile', value })) },
);
const requestArb: fc.Arbitrary<Request> = fc.oneof(
  { weight: 16, arbitrary: fc.array(itemArb, { minLength: 1, maxLength: 20 }).map((items): Request => ({ kind: 'events', items })) },
  { weight: 3, arbitrary: fc.nat().map((pick): Request => ({ kind: 'retry', pick })) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.jsonValue({ maxDepth: 3 }).filter((v) => !Array.isArray(v)).map((v) => toJson(v)),
        fc.string({ maxLength: 200 }),
        nested.map((v) => toJson([v])),
        fc.constantFrom('[]', '[', '{"eventId":', '[1,2,', JSON.stringify(Array.from({ length: 1_001 }, () => ({})))),
      )
      .map((text): Request => ({ kind: 'body', text, contentType: 'application/json' })),
  },
);

describe('fuzz: the whole ingest path (POST /v1/events → events topic → windows)', () => {
  let infra: FaultInfra;
  let stack: Stack;
  before(async () => {
    infra = await FaultInfra.acquire();
    stack = await new Stack(infra).setup();
    await stack.start('ingester');
    await stack.start('sequence-builder');
  });
  after(async () => {
    await stack?.cleanup();
    await infra?.release();
  });

  it('answers 2xx or 4xx (never 5xx), accepts fresh well-formed events, and the oracle holds', async () => {
    const name = 'fuzz-ingest-http';
    const t0 = Date.now();
    const url = `${stack.member('ingester').svc.url}/v1/events`;
    const sentBodies: string[] = [];
    /** eventId → the request value it was sent as, and what the ingester last said. */
    const told = new Map<string, { sent: Record<string, unknown>; status: string }>();
    const statuses = new Map<number, number>();
    /** Broken invariants: every request is checked, the run goes on, and the test fails at the end listing them. */
    const violations = new Map<string, { count: number; example: string }>();
    const violate = (kind: string, example: string) => {
      const v = violations.get(kind);
      if (v) v.count++;
      else violations.set(kind, { count: 1, example: example.slice(0, 600) });
    };
    let events = 0;
    let run = 0;
    const prop = fc.asyncProperty(requestArb, async (req) => {
      run++;
      let text: string;
      let items: Item[] | undefined;
      if (req.kind === 'body') text = req.text;
      else if (req.kind === 'retry') {
        if (sentBodies.length === 0) return;
        text = sentBodies[req.pick % sentBodies.length]!;
        items = (JSON.parse(text) as unknown[]).map((v: unknown) => ({ kind: 'hostile', value: v }) as Item);
      } else {
        // unique eventIds per case for well-formed events (a retry is its own kind of case)
        items = req.items.map((it) => (it.kind === 'good' ? { kind: 'good', event: { ...it.event, eventId: `~${run}~${String(it.event.eventId)}` } } : it));
        // a duplicate eventId inside one request, now and then
        if (items.length > 1 && run % 7 === 0 && items[0]!.kind === 'good' && items[1]!.kind === 'good') items[1] = { kind: 'good', event: { ...items[1].event, eventId: items[0].event.eventId } };
        text = toJson(items.map((it) => (it.kind === 'good' ? it.event : it.value)));
      }
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text, signal: AbortSignal.timeout(30_000) });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const body = await res.text();
      if (res.status >= 500 || (res.status !== 200 && res.status < 400)) {
        violate(`answered ${res.status}`, `${body.slice(0, 200)} to ${text.length} bytes: ${text.slice(0, 300)}`);
        return;
      }
      if (res.status !== 200 || !items) return;
      if (req.kind === 'events') sentBodies.push(text);
      const answer = JSON.parse(body) as { results: Array<{ index: number; eventId?: string; status: string; reason?: string }> };
      if (answer.results?.length !== items.length) return violate('not one result per event', `${items.length} events, ${answer.results?.length} results: ${body.slice(0, 300)}`);
      /** Fresh well-formed eventIds of this request → how many of their copies were accepted. */
      const freshCopies = new Map<string, number>();
      /** What was known before this request of its eventIds (copies inside it are judged together, below). */
      const idOf = (it: Item): unknown => {
        const value = it.kind === 'good' ? it.event : it.value;
        return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>).eventId : undefined;
      };
      const prior = new Map<string, { status: string } | undefined>();
      for (const it of items) {
        const id = idOf(it);
        if (typeof id === 'string' && !prior.has(id)) prior.set(id, told.get(id));
      }
      items.forEach((it, i) => {
        const r = answer.results[i]!;
        if (r.index !== i || !['accepted', 'duplicate', 'rejected'].includes(r.status)) violate('a malformed result', JSON.stringify(r));
        if (r.status === 'rejected' && !(r.reason && REASONS.has(r.reason))) violate('a rejection without a known reason', JSON.stringify(r));
        const value = it.kind === 'good' ? it.event : it.value;
        const id = idOf(it);
        if (typeof id !== 'string') return;
        const before = prior.get(id);
        if (it.kind === 'good') {
          if (before && before.status !== 'rejected') {
            if (r.status !== 'duplicate') violate(`an event accepted before answered ${r.status} instead of duplicate`, `${id}: ${JSON.stringify(r)}`);
          } else if (r.status === 'rejected') violate('a well-formed event rejected', `${id}: ${JSON.stringify(r)} for ${toJson(value).slice(0, 300)}`);
          else freshCopies.set(id, (freshCopies.get(id) ?? 0) + (r.status === 'accepted' ? 1 : 0));
        } else if (before && before.status !== 'rejected' && r.status === 'accepted') {
          violate('an event accepted again', `${id} (told ${before.status} before)`);
        }
        events++;
        const now = told.get(id);
        if (!now || now.status === 'rejected') told.set(id, { sent: value as Record<string, unknown>, status: r.status });
      });
      // copies of one fresh eventId in one request: exactly one is accepted, the others are duplicates
      for (const [id, accepted] of freshCopies) if (accepted !== 1) violate(`a fresh eventId accepted ${accepted} times in one request`, id);
    });
    const out = await fc.check(prop, { numRuns: HTTP_RUNS, seed: seedOf(name), endOnFailure: true });
    const failure = out.failed
      ? failureText(out)
      : violations.size > 0
        ? [...violations].map(([kind, v]) => `${kind}: ${v.count}× (e.g. ${v.example})`).join('\n')
        : undefined;

    // The oracle, on whatever was told accepted (also after a failed property).
    const delivered = [...told].filter(([, t]) => t.status !== 'rejected');
    const onTopic = await readEvents(stack);
    const byId = new Map<string, EventV1>();
    for (const r of onTopic) if (!byId.has(r.event.eventId)) byId.set(r.event.eventId, r.event);
    const asSent: LoadEvent[] = delivered.map(([id, t]) => ({ eventId: id, userId: String(t.sent.userId), type: 'view', ts: 0 }));
    const expectedWindows = delivered.map(([id]) => byId.get(id)).filter((e): e is EventV1 => !!e) as LoadEvent[];
    const topic = compareTopic(asSent, onTopic);
    // until every window is complete, or nothing changed for 20 s (or 120 s in all)
    let windows = await compareWindows(stack, expectedWindows);
    const until = Date.now() + 120_000;
    let changed = Date.now();
    while (windows.lost > 0 && Date.now() < until && Date.now() - changed < 20_000) {
      await new Promise((r) => setTimeout(r, 1_000));
      const next = await compareWindows(stack, expectedWindows);
      if (next.lost !== windows.lost) changed = Date.now();
      windows = next;
    }
    const verdict: StreamVerdict = { events: delivered.length, topic, windows, usersOnSeveralPartitions: 0, convergedMs: 0, converged: windows.lost === 0 };
    const passed = !failure && holds(verdict);
    recordResult({
      scenario: name,
      fault: `fuzzed POST /v1/events: ${run} generated requests (${events} events; well-formed, hostile, retried, duplicated)`,
      repetitions: 1,
      faults: 0,
      events: delivered.length,
      lost: { topic: topic.lost, windows: windows.lost },
      duplicated: { topic: topic.duplicated, windows: windows.extra },
      seconds: since(t0),
      passed,
      notes: `answers ${[...statuses].sort().map(([k, v]) => `${k}: ${v}`).join(', ')}${failure ? `; FAILED: ${failure.split('\n').map((l) => l.slice(0, 160)).slice(0, 4).join(' | ')}` : ''}`,
    });
    console.log(`# ${name}: ${describeVerdict(verdict)}`);
    if (failure) assert.fail(`${name}: ${replayHint(name)}\n${failure.slice(0, 6_000)}`);
    assert.ok(holds(verdict), `${name}: the oracle does not hold (${replayHint(name)}):\n${describeVerdict(verdict)}`);
  });
});
