/** Ways a malformed record can be broken, each rejected by the ingester for a known reason. */
export const MALFORMED_KINDS = [
  'invalid_json',
  'not_an_object',
  'missing_user_id',
  'unknown_type',
  'missing_item_id',
  'missing_query',
  'invalid_timestamp',
  'timestamp_out_of_range',
  'too_large',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** Conversion probabilities of the shopping funnel. */
export interface FunnelOptions {
  /** P(click | view). Default 0.3. */
  click?: number;
  /** P(add_to_cart | click). Default 0.3. */
  cart?: number;
  /** P(purchase | item in cart), decided at checkout when the session ends. Default 0.45. */
  purchase?: number;
}

/**
 * Options of {@link ClickstreamGenerator}. Every field is optional; the same seed and options
 * always give the same stream.
 */
export interface GeneratorOptions {
  /** Seed of every random choice. Default 42. */
  seed?: number | string;
  /** Number of users. Default 10,000. */
  users?: number;
  /** Number of items in the catalogue. Default 5,000. */
  items?: number;
  /** Number of item categories. Default 50. */
  categories?: number;
  /** Exponent of the Zipf law of item popularity (weight of rank r is 1/r^s). Default 1.1. */
  zipfExponent?: number;
  /** Probability that the next viewed item follows the current item's transitions (the learnable part). Default 0.65. */
  transitionProb?: number;
  /** Number of "next" items per item. Default 5. */
  transitionFanout?: number;
  /** Share of transitions that lead to a complement category instead of the item's own. Default 0.2. */
  crossCategoryRate?: number;
  /** Preferred categories per user. Default 3. */
  userCategories?: number;
  /** Probability that a fresh (non-transition) item is drawn from the whole catalogue instead of the user's categories. Default 0.1. */
  exploreRate?: number;
  /** Mean number of browse steps (views and searches) per session. Default 8. */
  meanSessionLength?: number;
  /** Probability that a browse step is a search; a session's first step searches three times as often. Default 0.08. */
  searchRate?: number;
  /** Funnel conversion probabilities. */
  funnel?: FunnelOptions;
  /** Timestamp of the start of the stream (epoch ms, ISO-8601 string or Date). Default 2025-01-01T00:00:00Z. */
  startTime?: number | string | Date;
  /** Median inactivity gap between a user's sessions, in ms, on top of the 30 minutes that end a session. Users vary around it (log-normal). Default 6 h. */
  sessionGapMs?: number;
  /** Share of clean events whose `ts` is an ISO-8601 string instead of epoch ms. Default 0. */
  isoTimestampRate?: number;
  /**
   * Fraction of sessions that start anonymous: their first events carry only the session id, then
   * the shopper logs in (an event with both ids) after 1 to 4 anonymous events, unless the session ends first.
   * Drawn from a random stream of its own, so the clean stream is otherwise unchanged. Default 0.
   */
  anonymousSessionRate?: number;
  /** Attach `context: { device, page }` to events. Default true. */
  context?: boolean;
  /** Prefix of every event id (at most 64 characters). Default: 8 hex digits derived from the seed. */
  idPrefix?: string;
  /** Share of records that re-emit a recent event with the same eventId (a producer retry). Default 0. */
  duplicateRate?: number;
  /** Share of records that are malformed payloads. Default 0. */
  malformedRate?: number;
  /** Share of records that are valid events stamped before their user's previous event. Default 0. */
  lateRate?: number;
  /** How late a late event can be, in ms (at least 1 s late). Default 3 min. */
  lateMaxMs?: number;
  /** Which malformations to produce. Default all of {@link MALFORMED_KINDS}. */
  malformedKinds?: readonly MalformedKind[];
}

export interface ResolvedOptions extends Required<Omit<GeneratorOptions, 'funnel' | 'startTime' | 'idPrefix'>> {
  funnel: Required<FunnelOptions>;
  startTime: number;
  idPrefix: string | undefined;
}

export const DEFAULT_START_TIME = Date.UTC(2025, 0, 1);

/** Fills defaults and validates; throws a RangeError naming every bad option. */
export function resolveOptions(options: GeneratorOptions = {}): ResolvedOptions {
  const o: ResolvedOptions = {
    seed: options.seed ?? 42,
    users: options.users ?? 10_000,
    items: options.items ?? 5_000,
    categories: options.categories ?? 50,
    zipfExponent: options.zipfExponent ?? 1.1,
    transitionProb: options.transitionProb ?? 0.65,
    transitionFanout: options.transitionFanout ?? 5,
    crossCategoryRate: options.crossCategoryRate ?? 0.2,
    userCategories: options.userCategories ?? 3,
    exploreRate: options.exploreRate ?? 0.1,
    meanSessionLength: options.meanSessionLength ?? 8,
    searchRate: options.searchRate ?? 0.08,
    funnel: {
      click: options.funnel?.click ?? 0.3,
      cart: options.funnel?.cart ?? 0.3,
      purchase: options.funnel?.purchase ?? 0.45,
    },
    startTime: toEpochMs(options.startTime ?? DEFAULT_START_TIME),
    sessionGapMs: options.sessionGapMs ?? 6 * 3_600_000,
    isoTimestampRate: options.isoTimestampRate ?? 0,
    anonymousSessionRate: options.anonymousSessionRate ?? 0,
    context: options.context ?? true,
    idPrefix: options.idPrefix,
    duplicateRate: options.duplicateRate ?? 0,
    malformedRate: options.malformedRate ?? 0,
    lateRate: options.lateRate ?? 0,
    lateMaxMs: options.lateMaxMs ?? 3 * 60_000,
    malformedKinds: options.malformedKinds ?? MALFORMED_KINDS,
  };

  const errors: string[] = [];
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isSafeInteger(v) || v < min) errors.push(`${name} must be an integer >= ${min}, got ${v}`);
  };
  const prob = (name: string, v: number): void => {
    if (!(v >= 0 && v <= 1)) errors.push(`${name} must be in [0, 1], got ${v}`);
  };
  if (typeof o.seed === 'number' ? !Number.isFinite(o.seed) : typeof o.seed !== 'string') {
    errors.push(`seed must be a finite number or a string, got ${String(o.seed)}`);
  }
  int('users', o.users, 1);
  int('items', o.items, 2);
  int('categories', o.categories, 1);
  if (o.categories > o.items) errors.push(`categories (${o.categories}) must not exceed items (${o.items})`);
  if (!(o.zipfExponent >= 0 && o.zipfExponent <= 5)) errors.push(`zipfExponent must be in [0, 5], got ${o.zipfExponent}`);
  int('transitionFanout', o.transitionFanout, 1);
  if (o.transitionFanout >= o.items) errors.push(`transitionFanout (${o.transitionFanout}) must be smaller than items (${o.items})`);
  int('userCategories', o.userCategories, 1);
  if (o.userCategories > o.categories) errors.push(`userCategories (${o.userCategories}) must not exceed categories (${o.categories})`);
  prob('transitionProb', o.transitionProb);
  prob('crossCategoryRate', o.crossCategoryRate);
  prob('exploreRate', o.exploreRate);
  prob('funnel.click', o.funnel.click);
  prob('funnel.cart', o.funnel.cart);
  prob('funnel.purchase', o.funnel.purchase);
  prob('isoTimestampRate', o.isoTimestampRate);
  prob('anonymousSessionRate', o.anonymousSessionRate);
  if (!(o.searchRate >= 0 && o.searchRate <= 1 / 3)) errors.push(`searchRate must be in [0, 1/3], got ${o.searchRate}`);
  if (!(o.meanSessionLength >= 1 && o.meanSessionLength <= 1000)) {
    errors.push(`meanSessionLength must be in [1, 1000], got ${o.meanSessionLength}`);
  }
  if (!Number.isSafeInteger(o.startTime) || o.startTime < 0) errors.push(`startTime must be a valid date, got ${String(options.startTime)}`);
  if (!(o.sessionGapMs >= 0 && Number.isFinite(o.sessionGapMs))) errors.push(`sessionGapMs must be >= 0, got ${o.sessionGapMs}`);
  prob('duplicateRate', o.duplicateRate);
  prob('malformedRate', o.malformedRate);
  prob('lateRate', o.lateRate);
  if (!(o.duplicateRate + o.malformedRate + o.lateRate < 1)) {
    errors.push(`duplicateRate + malformedRate + lateRate must be below 1, got ${o.duplicateRate + o.malformedRate + o.lateRate}`);
  }
  if (!(o.lateMaxMs >= 1000 && Number.isFinite(o.lateMaxMs))) errors.push(`lateMaxMs must be >= 1000, got ${o.lateMaxMs}`);
  if (o.malformedRate > 0 && o.malformedKinds.length === 0) errors.push('malformedKinds must not be empty when malformedRate > 0');
  for (const k of o.malformedKinds) {
    if (!(MALFORMED_KINDS as readonly string[]).includes(k)) errors.push(`unknown malformed kind "${k}"`);
  }
  if (o.idPrefix !== undefined && !/^[A-Za-z0-9._:-]{1,64}$/.test(o.idPrefix)) {
    errors.push(`idPrefix must be 1-64 characters of [A-Za-z0-9._:-], got ${JSON.stringify(o.idPrefix)}`);
  }
  if (errors.length > 0) throw new RangeError(`invalid generator options: ${errors.join('; ')}`);
  return o;
}

function toEpochMs(t: number | string | Date): number {
  if (typeof t === 'number') return t;
  if (t instanceof Date) return t.getTime();
  return /^\d+$/.test(t) ? Number(t) : Date.parse(t);
}
