import { RejectReason, eventKey, type EventType, type RawEvent } from '@seqrec/contracts';
import { Catalogue } from './catalogue';
import { resolveOptions, type GeneratorOptions, type MalformedKind, type ResolvedOptions } from './options';
import { AliasTable, Rng } from '@seqrec/random';

/** A clean event: valid, in time order for its user. */
export interface EventRecord {
  kind: 'event';
  event: RawEvent;
}
/** A re-emitted earlier event with the same eventId (a producer retry); the ingester should drop it. */
export interface DuplicateRecord {
  kind: 'duplicate';
  event: RawEvent;
}
/** A valid event stamped up to `lateMaxMs` before its user's previous event (a client that flushed late). */
export interface LateRecord {
  kind: 'late';
  event: RawEvent;
}
/** A payload the ingester must reject, with the reason it should give. */
export interface MalformedRecord {
  kind: 'malformed';
  /** What a producer would put on the wire: not necessarily JSON. */
  payload: string;
  /** How it is broken. */
  why: MalformedKind;
  /** The rejection `parseEvent` from @seqrec/contracts gives with its default limits. */
  expected: RejectReason;
  /** The user the payload was made from (the message key a producer would use). */
  userId: string;
}
export type GeneratedRecord = EventRecord | DuplicateRecord | LateRecord | MalformedRecord;
export type RecordKind = GeneratedRecord['kind'];

export interface GeneratorCounts {
  events: number;
  duplicates: number;
  late: number;
  malformed: number;
}

const enum Phase {
  /** Idle; the next event opens a session. */
  Start,
  Browse,
  Click,
  Cart,
  Checkout,
}

const enum Kind {
  Event,
  Duplicate,
  Late,
  Malformed,
}

const DEVICES = ['desktop', 'mobile', 'tablet', 'app'] as const;
const DEVICE_WEIGHTS = [0.4, 0.4, 0.08, 0.12];
const SESSION_TIMEOUT_MS = 30 * 60_000;
const MAX_CART = 16;
const MAX_STEPS = 500;
const RING = 1024;
const UNKNOWN_TYPES = ['hover', 'wishlist', 'share', 'rate'];
const BAD_TIMESTAMPS: Array<string | number> = ['yesterday', '2025-13-45T25:61:00Z', -1, 1_700_000_000_000.5, ''];
/** 2100-01-01: far beyond any clock-skew allowance. */
const FAR_FUTURE_TS = 4_102_444_800_000;
const EXPECTED: Readonly<Record<MalformedKind, RejectReason>> = {
  invalid_json: RejectReason.InvalidJson,
  not_an_object: RejectReason.NotAnObject,
  missing_user_id: RejectReason.InvalidField,
  unknown_type: RejectReason.InvalidField,
  missing_item_id: RejectReason.MissingItemId,
  missing_query: RejectReason.MissingQuery,
  invalid_timestamp: RejectReason.InvalidTimestamp,
  timestamp_out_of_range: RejectReason.TimestampOutOfRange,
  too_large: RejectReason.TooLarge,
};

// Gap model (ms): all in-session gaps stay far below the 30 min session timeout.
const BROWSE_GAP_MIN = 3_000;
const BROWSE_GAP_MEAN = 35_000;
const BROWSE_GAP_MAX = 20 * 60_000;
const SEARCH_GAP_MIN = 2_000;
const SEARCH_GAP_MEAN = 10_000;
const CLICK_GAP_MIN = 1_000;
const CLICK_GAP_MEAN = 5_000;
const CART_GAP_MIN = 2_000;
const CART_GAP_MEAN = 15_000;
const CHECKOUT_GAP_MIN = 10_000;
const CHECKOUT_GAP_MEAN = 40_000;
const PURCHASE_GAP_MIN = 300;
const PURCHASE_GAP_MEAN = 1_500;

/**
 * A seeded, reproducible synthetic e-commerce clickstream.
 *
 * Users browse in sessions (a search now and then, views that mostly follow the current item's
 * "next" items, a view → click → add_to_cart funnel and a checkout at the end of the session) and
 * come back after an inactivity gap of more than 30 minutes. All users run concurrently on one
 * simulated clock: the stream interleaves them the way a shop's stream does, globally in time order,
 * each user's clean events strictly increasing in `ts`.
 *
 * `next()` returns clean events only. `nextRecord()` also returns the injected faults (duplicates,
 * late events, malformed payloads) when their rates are set. Faults draw from their own random
 * stream and their own id counter, so the clean stream is the same whatever the fault rates.
 *
 * Cost: O(log users) per event (a binary heap of users keyed by their next event time).
 */
export class ClickstreamGenerator implements Iterable<RawEvent> {
  readonly options: ResolvedOptions;
  readonly catalogue: Catalogue;
  /** User ids (`u000123`), by user index. */
  readonly userIds: readonly string[];

  private readonly rng: Rng;
  private readonly frng: Rng;
  private readonly prefix: string;
  private readonly faultsOn: boolean;

  // Per-user state, struct-of-arrays.
  private readonly nextTs: Float64Array;
  private readonly lastTs: Float64Array;
  private readonly phase: Uint8Array;
  private readonly cur: Int32Array;
  private readonly pendingCat: Int32Array;
  /** The term of the pending search (-1: none). */
  private readonly pendingTerm: Int32Array;
  private readonly stepsLeft: Int32Array;
  private readonly sessionNo: Int32Array;
  private readonly device: Uint8Array;
  private readonly habitDevice: Uint8Array;
  private readonly cart: Int32Array;
  private readonly cartLen: Uint8Array;
  private readonly cartPos: Uint8Array;
  private readonly prefCats: Int32Array;
  private readonly prefCdf: Float64Array;
  private readonly gapMean: Float64Array;
  private readonly sessionIds: string[];
  /** Events left before an anonymous session's shopper logs in (0: logged in). */
  private readonly anonLeft: Uint8Array;
  private readonly arng: Rng;
  /** Min-heap of user indices by (nextTs, index). */
  private readonly heap: Int32Array;
  private readonly deviceTable = new AliasTable(DEVICE_WEIGHTS);

  private cleanSeq = 0;
  private faultSeq = 0;
  private readonly ring: RawEvent[] = [];
  private ringNext = 0;
  private lastUser = -1;
  private readonly counters: GeneratorCounts = { events: 0, duplicates: 0, late: 0, malformed: 0 };
  /** Analytic long-run rate of clean events per simulated second. */
  readonly eventsPerSimSecond: number;

  // Output slots of step(), to avoid a wrapper allocation per clean event.
  private outEvent: RawEvent | undefined;
  private outMalformed: MalformedRecord | undefined;

  constructor(options: GeneratorOptions = {}) {
    const o = (this.options = resolveOptions(options));
    this.catalogue = new Catalogue(o);
    this.rng = new Rng(o.seed, 0);
    this.frng = new Rng(o.seed, 3);
    this.prefix = o.idPrefix ?? new Rng(o.seed, 4).u32().toString(16).padStart(8, '0');
    this.faultsOn = o.duplicateRate + o.malformedRate + o.lateRate > 0;

    const n = o.users;
    const k = o.userCategories;
    const pad = Math.max(6, String(n - 1).length);
    this.userIds = Array.from({ length: n }, (_, u) => `u${String(u).padStart(pad, '0')}`);
    this.sessionIds = new Array<string>(n).fill('');
    this.anonLeft = new Uint8Array(n);
    this.arng = new Rng(o.seed, 5);
    this.nextTs = new Float64Array(n);
    this.lastTs = new Float64Array(n).fill(-1);
    this.phase = new Uint8Array(n);
    this.cur = new Int32Array(n).fill(-1);
    this.pendingCat = new Int32Array(n).fill(-1);
    this.pendingTerm = new Int32Array(n).fill(-1);
    this.stepsLeft = new Int32Array(n);
    this.sessionNo = new Int32Array(n);
    this.device = new Uint8Array(n);
    this.habitDevice = new Uint8Array(n);
    this.cart = new Int32Array(n * MAX_CART);
    this.cartLen = new Uint8Array(n);
    this.cartPos = new Uint8Array(n);
    this.prefCats = new Int32Array(n * k);
    this.prefCdf = new Float64Array(n * k);
    this.gapMean = new Float64Array(n);

    // Users: own random stream, so a different behaviour option does not change who the users are.
    const urng = new Rng(o.seed, 2);
    const cat = this.catalogue;
    const perSession = this.expectedSession();
    let rate = 0;
    for (let u = 0; u < n; u++) {
      let total = 0;
      for (let j = 0; j < k; j++) {
        let c = cat.sampleCategory(urng);
        for (let tries = 0; tries < 32 && this.prefCats.subarray(u * k, u * k + j).includes(c); tries++) {
          c = cat.sampleCategory(urng);
        }
        while (this.prefCats.subarray(u * k, u * k + j).includes(c)) c = (c + 1) % cat.categoryCount;
        this.prefCats[u * k + j] = c;
        total += this.prefCdf[u * k + j] = Math.pow(0.45, j) * (0.5 + urng.float());
      }
      let acc = 0;
      for (let j = 0; j < k; j++) this.prefCdf[u * k + j] = acc += this.prefCdf[u * k + j]! / total;
      this.prefCdf[u * k + k - 1] = 1;
      this.habitDevice[u] = this.deviceTable.sample(urng);
      // Activity varies a lot between users: log-normal mean gap, within x/20..x*20.
      const g = o.sessionGapMs * Math.exp(0.9 * urng.normal());
      this.gapMean[u] = Math.min(o.sessionGapMs * 20, Math.max(o.sessionGapMs / 20, g));
      // Memoryless gaps: an exponential first start puts the stream in its steady state at once.
      this.nextTs[u] = o.startTime + Math.round(urng.exp(this.gapMean[u]! + SESSION_TIMEOUT_MS));
      rate += perSession.events / ((perSession.durationMs + SESSION_TIMEOUT_MS + 1_000 + this.gapMean[u]!) / 1000);
    }
    this.eventsPerSimSecond = rate;
    this.heap = new Int32Array(n);
    for (let u = 0; u < n; u++) this.heap[u] = u;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The next clean event (faults, if any are configured, are drawn and skipped). */
  next(): RawEvent {
    while (this.step() !== Kind.Event);
    return this.outEvent!;
  }

  /** The next record: a clean event or, at the configured rates, a duplicate, a late event or a malformed payload. */
  nextRecord(): GeneratedRecord {
    switch (this.step()) {
      case Kind.Event:
        return { kind: 'event', event: this.outEvent! };
      case Kind.Duplicate:
        return { kind: 'duplicate', event: this.outEvent! };
      case Kind.Late:
        return { kind: 'late', event: this.outEvent! };
      default:
        return this.outMalformed!;
    }
  }

  /** The next `n` clean events. */
  take(n: number): RawEvent[] {
    const out = new Array<RawEvent>(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }

  /** The next `n` records, faults included. */
  takeRecords(n: number): GeneratedRecord[] {
    const out = new Array<GeneratedRecord>(n);
    for (let i = 0; i < n; i++) out[i] = this.nextRecord();
    return out;
  }

  /** Endless iterator of clean events; break out of the loop when done. */
  *[Symbol.iterator](): Iterator<RawEvent> {
    for (;;) yield this.next();
  }

  /** Endless iterator of records, faults included. */
  *records(): IterableIterator<GeneratedRecord> {
    for (;;) yield this.nextRecord();
  }

  /** Records produced so far, by kind. */
  get counts(): Readonly<GeneratorCounts> {
    return { ...this.counters };
  }

  /** Simulated time of the next clean event (epoch ms). */
  get clock(): number {
    return this.nextTs[this.heap[0]!]!;
  }

  /** Rough simulated time span of `events` clean events, from the analytic event rate. */
  estimateSpanMs(events: number): number {
    return Math.ceil((events / this.eventsPerSimSecond) * 1000);
  }

  // ---------------------------------------------------------------------------------------------

  private step(): Kind {
    if (this.faultsOn && this.lastUser >= 0) {
      const o = this.options;
      const r = this.frng.float();
      if (r < o.duplicateRate) return this.duplicate();
      if (r < o.duplicateRate + o.malformedRate) return this.malformed();
      if (r < o.duplicateRate + o.malformedRate + o.lateRate) return this.late();
    }
    const u = this.heap[0]!;
    const ts = this.nextTs[u]!;
    let e: RawEvent;
    switch (this.phase[u]) {
      case Phase.Start:
        this.startSession(u);
        e = this.browse(u, ts, true);
        break;
      case Phase.Browse:
        e = this.browse(u, ts, false);
        break;
      case Phase.Click:
        e = this.click(u, ts);
        break;
      case Phase.Cart:
        e = this.addToCart(u, ts);
        break;
      default:
        e = this.checkout(u, ts);
    }
    this.siftDown(0);
    this.lastTs[u] = ts;
    this.lastUser = u;
    if (this.faultsOn) {
      if (this.ring.length < RING) this.ring.push(e);
      else this.ring[this.ringNext] = e;
      this.ringNext = (this.ringNext + 1) % RING;
    }
    this.counters.events++;
    this.outEvent = e;
    return Kind.Event;
  }

  private startSession(u: number): void {
    const r = this.rng;
    this.sessionIds[u] = `${this.userIds[u]}-s${++this.sessionNo[u]!}`;
    const anon = this.options.anonymousSessionRate;
    this.anonLeft[u] = anon > 0 && this.arng.float() < anon ? 2 + this.arng.int(4) : 0;
    this.stepsLeft[u] = Math.min(MAX_STEPS, 1 + Math.floor(r.exp(this.options.meanSessionLength - 1)));
    this.device[u] = r.float() < 0.85 ? this.habitDevice[u]! : this.deviceTable.sample(r);
    this.cartLen[u] = 0;
    this.cartPos[u] = 0;
    this.cur[u] = -1;
    this.pendingCat[u] = -1;
  }

  /** One browse step: a search, or a view of the next item. */
  private browse(u: number, ts: number, first: boolean): RawEvent {
    const r = this.rng;
    const o = this.options;
    const left = --this.stepsLeft[u]!;
    // A search is never the last step: a view of what was searched for follows it.
    if (left > 0 && r.float() < (first ? 3 * o.searchRate : o.searchRate)) {
      const c = this.preferredCategory(u);
      const search = this.catalogue.sampleSearch(c, r);
      this.pendingCat[u] = c;
      this.pendingTerm[u] = search.term;
      this.schedule(u, Phase.Browse, ts + SEARCH_GAP_MIN + r.exp(SEARCH_GAP_MEAN));
      return this.event(u, 'search', -1, search.query, ts, 'search');
    }
    const item = this.nextItem(u);
    this.cur[u] = item;
    this.pendingCat[u] = -1;
    if (r.float() < o.funnel.click) this.schedule(u, Phase.Click, ts + CLICK_GAP_MIN + r.exp(CLICK_GAP_MEAN));
    else this.continueSession(u, ts);
    return this.event(u, 'view', item, undefined, ts, first ? 'landing' : 'product');
  }

  private click(u: number, ts: number): RawEvent {
    const r = this.rng;
    if (r.float() < this.options.funnel.cart) this.schedule(u, Phase.Cart, ts + CART_GAP_MIN + r.exp(CART_GAP_MEAN));
    else this.continueSession(u, ts);
    return this.event(u, 'click', this.cur[u]!, undefined, ts, 'product');
  }

  private addToCart(u: number, ts: number): RawEvent {
    const item = this.cur[u]!;
    const base = u * MAX_CART;
    const len = this.cartLen[u]!;
    if (len < MAX_CART && !this.cart.subarray(base, base + len).includes(item)) {
      this.cart[base + len] = item;
      this.cartLen[u] = len + 1;
    }
    this.continueSession(u, ts);
    return this.event(u, 'add_to_cart', item, undefined, ts, 'product');
  }

  private checkout(u: number, ts: number): RawEvent {
    const pos = this.cartPos[u]!;
    const item = this.cart[u * MAX_CART + pos]!;
    this.cartPos[u] = pos + 1;
    if (pos + 1 < this.cartLen[u]!) {
      this.schedule(u, Phase.Checkout, ts + PURCHASE_GAP_MIN + this.rng.exp(PURCHASE_GAP_MEAN));
    } else {
      this.endSession(u, ts);
    }
    return this.event(u, 'purchase', item, undefined, ts, 'checkout');
  }

  /** After a view, click or add_to_cart: browse on, or wrap the session up. */
  private continueSession(u: number, ts: number): void {
    if (this.stepsLeft[u]! > 0) {
      const r = this.rng;
      this.schedule(u, Phase.Browse, ts + Math.min(BROWSE_GAP_MAX, BROWSE_GAP_MIN + r.exp(BROWSE_GAP_MEAN)));
      return;
    }
    // Checkout: keep the cart items that get bought, in cart order.
    const base = u * MAX_CART;
    const len = this.cartLen[u]!;
    let kept = 0;
    for (let i = 0; i < len; i++) {
      if (this.rng.float() < this.options.funnel.purchase) this.cart[base + kept++] = this.cart[base + i]!;
    }
    this.cartLen[u] = kept;
    this.cartPos[u] = 0;
    if (kept > 0) this.schedule(u, Phase.Checkout, ts + CHECKOUT_GAP_MIN + this.rng.exp(CHECKOUT_GAP_MEAN));
    else this.endSession(u, ts);
  }

  private endSession(u: number, ts: number): void {
    this.schedule(u, Phase.Start, ts + SESSION_TIMEOUT_MS + 1_000 + this.rng.exp(this.gapMean[u]!));
  }

  private schedule(u: number, phase: Phase, at: number): void {
    this.phase[u] = phase;
    this.nextTs[u] = Math.round(at);
  }

  private nextItem(u: number): number {
    const r = this.rng;
    const cat = this.catalogue;
    const searched = this.pendingCat[u]!;
    const cur = this.cur[u]!;
    if (searched >= 0) return cat.sampleForSearch(searched, this.pendingTerm[u]!, cur, this.options.transitionProb, r);
    if (cur >= 0 && r.float() < this.options.transitionProb) return cat.sampleTransition(cur, r);
    if (r.float() < this.options.exploreRate) return cat.sampleItem(r);
    return cat.sampleInCategory(this.preferredCategory(u), r);
  }

  private preferredCategory(u: number): number {
    const k = this.options.userCategories;
    const x = this.rng.float();
    let j = 0;
    while (j < k - 1 && x >= this.prefCdf[u * k + j]!) j++;
    return this.prefCats[u * k + j]!;
  }

  private event(u: number, type: EventType, item: number, query: string | undefined, ts: number, page: string): RawEvent {
    const o = this.options;
    const eventId = `${this.prefix}-e${(this.cleanSeq++).toString(36)}`;
    const stamp = o.isoTimestampRate > 0 && this.frng.float() < o.isoTimestampRate ? new Date(ts).toISOString() : ts;
    const e: RawEvent =
      item >= 0
        ? { eventId, userId: this.userIds[u]!, sessionId: this.sessionIds[u]!, type, itemId: this.catalogue.itemIds[item]!, ts: stamp }
        : { eventId, userId: this.userIds[u]!, sessionId: this.sessionIds[u]!, type, query: query!, ts: stamp };
    // an anonymous shopper: the session id only, until the event that logs in (both ids)
    if (this.anonLeft[u]! > 0 && --this.anonLeft[u]! > 0) delete e.userId;
    if (o.context) e.context = { device: DEVICES[this.device[u]!], page };
    return e;
  }

  // ----- faults (own random stream, own id counter) ---------------------------------------------

  private faultId(): string {
    return `${this.prefix}-x${(this.faultSeq++).toString(36)}`;
  }

  private duplicate(): Kind {
    const n = this.ring.length;
    const back = this.frng.int(n);
    this.outEvent = cloneEvent(this.ring[(this.ringNext - 1 - back + 2 * RING) % RING]!);
    this.counters.duplicates++;
    return Kind.Duplicate;
  }

  private late(): Kind {
    const u = this.lastUser;
    const f = this.frng;
    const cur = this.cur[u]!;
    const item = cur >= 0 ? this.catalogue.sampleTransition(cur, f) : this.catalogue.sampleItem(f);
    const ts = Math.max(0, this.lastTs[u]! - 1_000 - f.int(this.options.lateMaxMs - 1_000 + 1));
    const e: RawEvent = {
      eventId: this.faultId(),
      userId: this.userIds[u]!,
      sessionId: this.sessionIds[u]!,
      type: 'view',
      itemId: this.catalogue.itemIds[item]!,
      ts,
    };
    if (this.options.context) e.context = { device: DEVICES[this.device[u]!], page: 'product' };
    this.outEvent = e;
    this.counters.late++;
    return Kind.Late;
  }

  private malformed(): Kind {
    const f = this.frng;
    const u = this.lastUser;
    const kinds = this.options.malformedKinds;
    const why = kinds[f.int(kinds.length)]!;
    const cur = this.cur[u]!;
    const item = this.catalogue.itemIds[cur >= 0 ? cur : this.catalogue.sampleItem(f)]!;
    const base: Record<string, unknown> = {
      eventId: this.faultId(),
      userId: this.userIds[u]!,
      sessionId: this.sessionIds[u]!,
      type: 'view',
      itemId: item,
      ts: this.lastTs[u]!,
    };
    let payload: string;
    switch (why) {
      case 'invalid_json': {
        // A proper prefix of a serialised object is never valid JSON (its closing brace is missing).
        const full = JSON.stringify(base);
        payload = full.slice(0, 1 + f.int(full.length - 1));
        break;
      }
      case 'not_an_object':
        payload = JSON.stringify(f.float() < 0.5 ? [base] : base.eventId);
        break;
      case 'missing_user_id':
        if (f.float() < 0.5) {
          delete base.userId;
          delete base.sessionId;
        } else base.userId = '';
        payload = JSON.stringify(base);
        break;
      case 'unknown_type':
        base.type = UNKNOWN_TYPES[f.int(UNKNOWN_TYPES.length)];
        payload = JSON.stringify(base);
        break;
      case 'missing_item_id':
        base.type = (['view', 'click', 'add_to_cart', 'purchase'] as const)[f.int(4)];
        delete base.itemId;
        payload = JSON.stringify(base);
        break;
      case 'missing_query':
        base.type = 'search';
        delete base.itemId;
        payload = JSON.stringify(base);
        break;
      case 'invalid_timestamp':
        base.ts = BAD_TIMESTAMPS[f.int(BAD_TIMESTAMPS.length)];
        payload = JSON.stringify(base);
        break;
      case 'timestamp_out_of_range':
        base.ts = FAR_FUTURE_TS + f.int(86_400_000);
        payload = JSON.stringify(base);
        break;
      case 'too_large':
        base.context = { note: 'x'.repeat(17 * 1024) };
        payload = JSON.stringify(base);
        break;
    }
    const expected = why === 'missing_user_id' && !('userId' in (JSON.parse(payload) as object)) ? RejectReason.MissingSubject : EXPECTED[why];
    this.outMalformed = { kind: 'malformed', payload, why, expected, userId: this.userIds[u]! };
    this.counters.malformed++;
    return Kind.Malformed;
  }

  // ----- heap ------------------------------------------------------------------------------------

  private siftDown(start: number): void {
    const heap = this.heap;
    const key = this.nextTs;
    const n = heap.length;
    const x = heap[start]!;
    const kx = key[x]!;
    let i = start;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let cu = heap[c]!;
      let kc = key[cu]!;
      const rc = c + 1;
      if (rc < n) {
        const ru = heap[rc]!;
        const kr = key[ru]!;
        if (kr < kc || (kr === kc && ru < cu)) {
          c = rc;
          cu = ru;
          kc = kr;
        }
      }
      if (kc < kx || (kc === kx && cu < x)) {
        heap[i] = cu;
        i = c;
      } else break;
    }
    heap[i] = x;
  }

  /** Expected events and duration of one session, for the analytic rate. */
  private expectedSession(): { events: number; durationMs: number } {
    const o = this.options;
    const steps = o.meanSessionLength;
    const searches = Math.max(0, steps - 1) * o.searchRate * 1.2;
    const views = steps - searches;
    const clicks = views * o.funnel.click;
    const carts = clicks * o.funnel.cart;
    const purchases = carts * o.funnel.purchase;
    const durationMs =
      (steps - 1) * (BROWSE_GAP_MIN + BROWSE_GAP_MEAN) +
      clicks * (CLICK_GAP_MIN + CLICK_GAP_MEAN) +
      carts * (CART_GAP_MIN + CART_GAP_MEAN) +
      (purchases > 0 ? Math.min(1, purchases) * (CHECKOUT_GAP_MIN + CHECKOUT_GAP_MEAN) : 0);
    return { events: steps + clicks + carts + purchases, durationMs };
  }
}

/** A deep-enough copy of an event (its context object is copied too). */
export function cloneEvent(e: RawEvent): RawEvent {
  const c = { ...e };
  if (e.context !== undefined) c.context = { ...e.context };
  return c;
}

/** The Kafka message (key, value) a producer would send for a record. */
export function recordToMessage(record: GeneratedRecord): { key: string; value: string } {
  if (record.kind === 'malformed') return { key: record.userId, value: record.payload };
  return { key: eventKey(record.event), value: JSON.stringify(record.event) };
}
