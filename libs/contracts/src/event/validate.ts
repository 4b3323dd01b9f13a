import { TypeCompiler } from '@sinclair/typebox/compiler';
import { EVENT_TYPES, RawEventSchema, type EventV1, type RawEvent } from './value';

/** Why an input was rejected; stable codes, used as a metric label and on the dead-letter topic. */
export enum RejectReason {
  InvalidJson = 'invalid_json',
  NotAnObject = 'not_an_object',
  InvalidField = 'invalid_field',
  MissingItemId = 'missing_item_id',
  MissingQuery = 'missing_query',
  InvalidTimestamp = 'invalid_timestamp',
  TimestampOutOfRange = 'timestamp_out_of_range',
  TooLarge = 'too_large',
  /** A consumer failed on the message repeatedly (a poison message); `detail` has its last error. */
  ProcessingFailed = 'processing_failed',
}

export interface Rejection {
  reason: RejectReason;
  /** The offending field as a JSON pointer (`/ts`), when one field is to blame. */
  field?: string;
  /** Human-readable detail, precise enough to fix the producer. */
  detail: string;
}

export type ValidationResult = { ok: true; event: EventV1 } | { ok: false; rejection: Rejection };

export interface NormalizeOptions {
  /** Reject events stamped further than this in the future (clock skew guard). */
  maxFutureSkewMs: number;
  /** Reject events older than this (replays of ancient data belong to the trainer, not the live path). */
  maxAgeMs: number;
  /** Largest accepted serialized event, in bytes. */
  maxEventBytes: number;
  /** Clock, for tests. */
  now?: () => number;
}

export const DEFAULT_NORMALIZE_OPTIONS: NormalizeOptions = {
  maxFutureSkewMs: 5 * 60_000,
  maxAgeMs: 365 * 24 * 3_600_000,
  maxEventBytes: 16 * 1024,
};

const checker = TypeCompiler.Compile(RawEventSchema);
const KNOWN = new Set(['eventId', 'userId', 'sessionId', 'type', 'itemId', 'query', 'ts', 'context']);
const FIELD_HINTS: Record<string, string> = {
  '/type': `expected one of ${EVENT_TYPES.map((t) => `"${t}"`).join(', ')}`,
  '/ts': 'expected epoch milliseconds or an ISO-8601 date-time',
  '/context': 'expected a JSON object',
};
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Validates and normalises one raw event (already parsed JSON). Pure and fast: the compiled schema
 * check is the fast path, its error iterator only runs for rejects.
 */
export function normalizeEvent(input: unknown, options: NormalizeOptions = DEFAULT_NORMALIZE_OPTIONS): ValidationResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return reject(RejectReason.NotAnObject, `expected a JSON object, got ${describe(input)}`);
  }
  if (!checker.Check(input)) {
    const first = checker.Errors(input).First();
    const field = first?.path || undefined;
    const message = (field && FIELD_HINTS[field]) ?? first?.message ?? 'invalid';
    return reject(RejectReason.InvalidField, `${field ?? '/'}: ${message}`, field);
  }
  const raw = input as Record<string, unknown> & RawEvent;
  if (raw.type === 'search') {
    if (raw.query === undefined) return reject(RejectReason.MissingQuery, '/query: required for type "search"', '/query');
  } else if (raw.itemId === undefined) {
    return reject(RejectReason.MissingItemId, `/itemId: required for type "${raw.type}"`, '/itemId');
  }
  const ts = parseTimestamp(raw.ts);
  if (ts === undefined) {
    return reject(
      RejectReason.InvalidTimestamp,
      `/ts: expected epoch milliseconds or an ISO-8601 date-time, got ${JSON.stringify(raw.ts)}`,
      '/ts',
    );
  }
  const now = (options.now ?? Date.now)();
  if (ts > now + options.maxFutureSkewMs || ts < now - options.maxAgeMs) {
    return reject(
      RejectReason.TimestampOutOfRange,
      `/ts: ${new Date(ts).toISOString()} is outside [now - ${options.maxAgeMs} ms, now + ${options.maxFutureSkewMs} ms]`,
      '/ts',
    );
  }

  const event: EventV1 = { eventId: raw.eventId, userId: raw.userId, type: raw.type, ts };
  if (raw.sessionId !== undefined) event.sessionId = raw.sessionId;
  if (raw.itemId !== undefined && raw.type !== 'search') event.itemId = raw.itemId;
  if (raw.query !== undefined) event.query = raw.query;
  let context: Record<string, unknown> | undefined = raw.context ? { ...raw.context } : undefined;
  for (const key of Object.keys(raw)) {
    if (!KNOWN.has(key)) (context ??= {})[key] = raw[key];
  }
  if (raw.type === 'search' && raw.itemId !== undefined) (context ??= {}).itemId = raw.itemId;
  if (context !== undefined) event.context = context;
  return { ok: true, event };
}

/** Parses the bytes of one message and normalises it; never throws. */
export function parseEvent(bytes: Buffer | string, options: NormalizeOptions = DEFAULT_NORMALIZE_OPTIONS): ValidationResult {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size > options.maxEventBytes) {
    return reject(RejectReason.TooLarge, `event is ${size} bytes, the limit is ${options.maxEventBytes}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    return reject(RejectReason.InvalidJson, `not valid JSON: ${(err as Error).message}`);
  }
  return normalizeEvent(parsed, options);
}

/** Epoch ms from an integer or an ISO-8601 string; `undefined` when it is neither. */
export function parseTimestamp(ts: unknown): number | undefined {
  if (typeof ts === 'number') return Number.isSafeInteger(ts) && ts >= 0 ? ts : undefined;
  if (typeof ts !== 'string' || !ISO_8601.test(ts)) return undefined;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function reject(reason: RejectReason, detail: string, field?: string): ValidationResult {
  return { ok: false, rejection: field === undefined ? { reason, detail } : { reason, field, detail } };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
