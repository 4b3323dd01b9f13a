import { TypeCompiler } from '@sinclair/typebox/compiler';
import { isUtf8 } from 'node:buffer';
import { TOO_DEEP, locateJsonProblem, pointerToken, scanJson } from './json-scan';
import { EVENT_TYPES, EventSchema, MAX_ID_LENGTH, RawEventSchema, type EventV1, type RawEvent } from './value';

/** Why an input was rejected; stable codes, used as a metric label and on the dead-letter topic. */
export enum RejectReason {
  InvalidJson = 'invalid_json',
  NotAnObject = 'not_an_object',
  InvalidField = 'invalid_field',
  MissingItemId = 'missing_item_id',
  MissingQuery = 'missing_query',
  /** Neither `userId` nor `sessionId`: the event belongs to nobody's window. */
  MissingSubject = 'missing_subject',
  InvalidTimestamp = 'invalid_timestamp',
  TimestampOutOfRange = 'timestamp_out_of_range',
  TooLarge = 'too_large',
  /** Bytes that are not UTF-8, or an id holding a lone UTF-16 surrogate (`"\ud800"`). */
  InvalidEncoding = 'invalid_encoding',
  /** Objects and arrays nested deeper than allowed (`context`: INGEST_MAX_CONTEXT_DEPTH). */
  TooDeep = 'too_deep',
  /** `context` holds more keys than INGEST_MAX_CONTEXT_KEYS. */
  TooManyKeys = 'too_many_keys',
  /** The same key twice in one JSON object (JSON.parse would keep only the last). */
  DuplicateKey = 'duplicate_key',
  /** A consumer failed on the message repeatedly (a poison message); `detail` has its last error. */
  ProcessingFailed = 'processing_failed',
  /** sequence-builder: a user's stored window could not be decoded; it was rebuilt from the events that followed. */
  CorruptWindow = 'corrupt_window',
}

export interface Rejection {
  reason: RejectReason;
  /** The offending field as a JSON pointer (`/ts`), when one field is to blame. */
  field?: string;
  /** Human-readable detail, precise enough to fix the producer. */
  detail: string;
}

export type ValidationResult =
  | { ok: true; event: EventV1 }
  | {
      ok: false;
      rejection: Rejection;
      /** The payload's `eventId` and `userId` (or `sessionId`) when it got far enough to have usable ones (dead letters, answers). */
      ids?: RejectedIds;
    };

/** The ids of a rejected payload that could be read (they key and trace its dead letter). */
export interface RejectedIds {
  eventId?: string;
  userId?: string;
  sessionId?: string;
}

/** Detail of {@link RejectReason.MissingSubject}. */
const MISSING_SUBJECT = '/userId: required, or a sessionId for an anonymous shopper (the event must belong to a user or a session)';

export interface NormalizeOptions {
  /** Reject events stamped further than this in the future (clock skew guard). */
  maxFutureSkewMs: number;
  /** Reject events older than this (replays of ancient data belong to the trainer, not the live path). */
  maxAgeMs: number;
  /** Largest accepted serialized event, in bytes. */
  maxEventBytes: number;
  /** Deepest `context`: the context object is level 1, an object or array in it level 2, ... */
  maxContextDepth: number;
  /** Most keys in `context`, counted over all its levels (unknown top-level fields included: they move there). */
  maxContextKeys: number;
  /** Largest `context` as JSON, in bytes. */
  maxContextBytes: number;
  /** Clock, for tests. */
  now?: () => number;
}

export const DEFAULT_NORMALIZE_OPTIONS: NormalizeOptions = {
  maxFutureSkewMs: 5 * 60_000,
  maxAgeMs: 365 * 24 * 3_600_000,
  maxEventBytes: 16 * 1024,
  maxContextDepth: 8,
  maxContextKeys: 64,
  maxContextBytes: 4 * 1024,
};

const checker = TypeCompiler.Compile(RawEventSchema);
const acceptedChecker = TypeCompiler.Compile(EventSchema);
/** The end of year 9999, ms: the latest `ts` an accepted event may carry (window codec range). */
const MAX_TS = 253_402_300_799_999;
const KNOWN = new Set(['eventId', 'userId', 'sessionId', 'type', 'itemId', 'query', 'ts', 'context']);
const IDS = ['eventId', 'userId', 'sessionId', 'itemId', 'query'] as const;
const FIELD_HINTS: Record<string, string> = {
  '/type': `expected one of ${EVENT_TYPES.map((t) => `"${t}"`).join(', ')}`,
  '/ts': 'expected epoch milliseconds or an ISO-8601 date-time',
  '/context': 'expected a JSON object',
};
/** Date, optional time (minutes, seconds, fraction), optional zone; a space may stand for the `T`. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** What the bytes told {@link parseEvent} that the parsed value no longer can. */
interface TextFacts {
  /** Object members in the text (colons outside strings). */
  members: number;
  text: string;
  bytes: number;
}

/**
 * Validates and normalises one raw event (already parsed JSON). Pure and fast: the compiled schema
 * check is the fast path, its error iterator only runs for rejects. Duplicate keys cannot be seen in
 * a parsed value: {@link parseEvent} checks them on the bytes.
 */
export function normalizeEvent(input: unknown, options: NormalizeOptions = DEFAULT_NORMALIZE_OPTIONS): ValidationResult {
  return check(input, options, (options.now ?? Date.now)(), undefined);
}

/**
 * Parses the bytes of one message and normalises it; never throws. Checked on the bytes, before
 * anything parses them: size (`too_large`), UTF-8 (`invalid_encoding`), nesting (`too_deep`, in the
 * same pass that counts object members for the duplicate-key check).
 *
 * @param now the time `ts` is checked against (default: the options' clock); the ingester passes
 *   the time the event reached Kafka, so a redelivery is judged as the first delivery was
 */
export function parseEvent(bytes: Buffer | string, options: NormalizeOptions = DEFAULT_NORMALIZE_OPTIONS, now?: number): ValidationResult {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const size = buf.length;
  if (size > options.maxEventBytes) {
    return reject(RejectReason.TooLarge, `event is ${size} bytes, the limit is ${options.maxEventBytes}`);
  }
  if (!isUtf8(buf)) return reject(RejectReason.InvalidEncoding, 'the bytes are not valid UTF-8 (JSON text must be)');
  // the event object is level 1 of the text, `context` level 2, so its level N is depth N + 1
  const maxDepth = options.maxContextDepth + 1;
  const members = scanJson(buf, 0, size, maxDepth);
  const text = buf.toString('utf8');
  if (members === TOO_DEEP) {
    const at = locateJsonProblem(text, maxDepth)?.pointer ?? '';
    const deep = reject(RejectReason.TooDeep, `${at || '/'}: nested deeper than ${maxDepth} levels (context: at most ${options.maxContextDepth})`, at || undefined);
    // JSON.parse itself copes with any depth; only its ids are read, for the dead letter and the answer
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return withIds(deep, parsed as Record<string, unknown>);
    } catch {
      // not JSON either: too deep is the first thing wrong with it
    }
    return deep;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return reject(RejectReason.InvalidJson, `not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return check(parsed, options, now ?? (options.now ?? Date.now)(), { members, text, bytes: size });
}

// Accumulators of walk(): normalisation is synchronous and never re-entered, so module state is safe
// and saves an object per event.
let walkedMembers = 0;
let walkTooDeep = false;
let walkForbidden = false;

/** Counts the members under a container value at `level`, stopping as soon as it is deeper than `max`. */
function walk(value: object, level: number, max: number): void {
  if (level > max) {
    walkTooDeep = true;
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) {
      if (typeof v === 'object' && v !== null) {
        walk(v as object, level + 1, max);
        if (walkTooDeep) return;
      }
    }
    return;
  }
  for (const k in value) {
    walkedMembers++;
    if (k === '__proto__') walkForbidden = true;
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === 'object' && v !== null) {
      walk(v, level + 1, max);
      if (walkTooDeep) return;
    }
  }
}

function check(input: unknown, options: NormalizeOptions, now: number, facts: TextFacts | undefined): ValidationResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return reject(RejectReason.NotAnObject, `expected a JSON object, got ${describe(input)}`);
  }
  const raw = input as Record<string, unknown>;
  const maxLevel = options.maxContextDepth;
  // One pass over the top-level members: count every member (duplicate keys), collect the unknown
  // ones (they move into context) and walk every nested value with a depth bound.
  let members = 0;
  let contextKeys = 0;
  let unknown: string[] | undefined;
  walkedMembers = 0;
  walkTooDeep = false;
  walkForbidden = false;
  let forbiddenIn: string | undefined;
  for (const key in raw) {
    members++;
    const known = KNOWN.has(key);
    if (!known) {
      (unknown ??= []).push(key);
      contextKeys++;
      if (key === '__proto__') forbiddenIn ??= key;
    }
    const v = raw[key];
    if (typeof v !== 'object' || v === null) continue;
    const before = walkedMembers;
    // context is level 1; an unknown field's value sits one level below it once moved there
    walk(v, key === 'context' ? 1 : 2, maxLevel);
    if (walkTooDeep) {
      return withIds(
        reject(RejectReason.TooDeep, `/${pointerToken(key)}: nested deeper than ${maxLevel} levels (context level 1 is the context object itself)`, `/${pointerToken(key)}`),
        raw,
      );
    }
    if (key === 'context' || !known) contextKeys += walkedMembers - before;
    if (walkForbidden) forbiddenIn ??= key;
  }
  members += walkedMembers;
  if (facts !== undefined && members !== facts.members) {
    const at = locateJsonProblem(facts.text, Infinity);
    const field = at?.kind === 'duplicate_key' ? at.pointer : undefined;
    return withIds(reject(RejectReason.DuplicateKey, `${field ?? '/'}: the same key appears twice in one object`, field), raw);
  }
  if (forbiddenIn !== undefined) {
    const field = `/${pointerToken(forbiddenIn)}`;
    return withIds(reject(RejectReason.InvalidField, `${field}: "__proto__" is not allowed as a key`, field), raw);
  }
  if (!checker.Check(raw)) {
    const first = checker.Errors(raw).First();
    const field = first?.path || undefined;
    const message = (field && FIELD_HINTS[field]) ?? first?.message ?? 'invalid';
    return withIds(reject(RejectReason.InvalidField, `${field ?? '/'}: ${message}`, field), raw);
  }
  const ev = raw as Record<string, unknown> & RawEvent;
  for (const id of IDS) {
    const v = ev[id];
    if (v !== undefined && !isWellFormed(v)) {
      return withIds(reject(RejectReason.InvalidEncoding, `/${id}: holds a lone UTF-16 surrogate (not a character)`, `/${id}`), raw);
    }
  }
  if (ev.userId === undefined && ev.sessionId === undefined) return withIds(reject(RejectReason.MissingSubject, MISSING_SUBJECT, '/userId'), raw);
  if (ev.type === 'search') {
    if (ev.query === undefined) return withIds(reject(RejectReason.MissingQuery, '/query: required for type "search"', '/query'), raw);
  } else if (ev.itemId === undefined) {
    return withIds(reject(RejectReason.MissingItemId, `/itemId: required for type "${ev.type}"`, '/itemId'), raw);
  }
  const ts = parseTimestamp(ev.ts);
  if (ts === undefined) {
    return withIds(
      reject(RejectReason.InvalidTimestamp, `/ts: expected epoch milliseconds or an ISO-8601 date-time, got ${JSON.stringify(ev.ts)}`, '/ts'),
      raw,
    );
  }
  if (ts > now + options.maxFutureSkewMs || ts < now - options.maxAgeMs) {
    return withIds(
      reject(
        RejectReason.TimestampOutOfRange,
        `/ts: ${new Date(ts).toISOString()} is outside [now - ${options.maxAgeMs} ms, now + ${options.maxFutureSkewMs} ms]`,
        '/ts',
      ),
      raw,
    );
  }

  const event: EventV1 = ev.userId === undefined ? { eventId: ev.eventId, type: ev.type, ts } : { eventId: ev.eventId, userId: ev.userId, type: ev.type, ts };
  if (ev.sessionId !== undefined) event.sessionId = ev.sessionId;
  if (ev.itemId !== undefined && ev.type !== 'search') event.itemId = ev.itemId;
  if (ev.query !== undefined) event.query = ev.query;
  let context: Record<string, unknown> | undefined = ev.context ? { ...ev.context } : undefined;
  if (unknown) for (const key of unknown) (context ??= {})[key] = (input as Record<string, unknown>)[key];
  if (ev.type === 'search' && ev.itemId !== undefined) {
    (context ??= {}).itemId = ev.itemId;
    contextKeys++;
  }
  if (context !== undefined) {
    if (contextKeys > options.maxContextKeys) {
      return withIds(reject(RejectReason.TooManyKeys, `/context: ${contextKeys} keys (unknown top-level fields included), the limit is ${options.maxContextKeys}`, '/context'), raw);
    }
    // JSON.stringify writes a number like 1e20 in up to 5.25 times its bytes, never more: a text
    // six times smaller than the limit cannot hold a context over it
    if (facts === undefined || facts.bytes * 6 > options.maxContextBytes) {
      const bytes = Buffer.byteLength(JSON.stringify(context));
      if (bytes > options.maxContextBytes) {
        return withIds(reject(RejectReason.TooLarge, `/context: ${bytes} bytes as JSON, the limit is ${options.maxContextBytes}`, '/context'), raw);
      }
    }
    event.context = context;
  }
  return { ok: true, event };
}

/**
 * Reads one message of the events topic (an {@link EventV1} the ingester wrote); never throws. The
 * sequence-builder calls it on every message: whatever else reached the topic (another producer, a
 * bug, a corrupted record) is answered with a rejection for the dead-letter topic, never an
 * exception that would stop the partition.
 */
export function parseAcceptedEvent(bytes: Buffer | null): ValidationResult {
  if (bytes === null || bytes.length === 0) return reject(RejectReason.InvalidJson, 'empty message');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return reject(RejectReason.InvalidJson, `not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject(RejectReason.NotAnObject, `expected a JSON object, got ${describe(parsed)}`);
  }
  if (!acceptedChecker.Check(parsed)) {
    const first = acceptedChecker.Errors(parsed).First();
    const field = first?.path || undefined;
    return withIds(reject(RejectReason.InvalidField, `${field ?? '/'}: ${(field && FIELD_HINTS[field]) ?? first?.message ?? 'invalid'}`, field), parsed as Record<string, unknown>);
  }
  const event = parsed as EventV1;
  if (event.userId === undefined && event.sessionId === undefined) return withIds(reject(RejectReason.MissingSubject, MISSING_SUBJECT, '/userId'), parsed as Record<string, unknown>);
  if (event.ts > MAX_TS) return withIds(reject(RejectReason.TimestampOutOfRange, `/ts: ${event.ts} is beyond year 9999`, '/ts'), parsed as Record<string, unknown>);
  if (event.type === 'search' ? event.itemId !== undefined : event.itemId === undefined) {
    return withIds(reject(RejectReason.MissingItemId, `/itemId: ${event.type === 'search' ? 'not allowed on' : 'required for'} type "${event.type}"`, '/itemId'), parsed as Record<string, unknown>);
  }
  return { ok: true, event };
}

/**
 * Epoch ms from an integer or an ISO-8601 string; `undefined` when it is neither. The rule for a
 * string: `YYYY-MM-DD`, optionally `THH:MM`, `:SS`, `.fraction` (digits past milliseconds are
 * dropped) and a zone (`Z`, `±HH:MM`, `±HHMM`); a space may replace the `T`. **Without a zone the
 * time is UTC** (whatever the server's time zone), a date alone is midnight UTC. Every part must be
 * in range: month 1-12, a day that exists in that month, hour 0-23, minute and second 0-59 (no leap
 * second, no 24:00).
 */
export function parseTimestamp(ts: unknown): number | undefined {
  if (typeof ts === 'number') return Number.isSafeInteger(ts) && ts >= 0 ? ts : undefined;
  if (typeof ts !== 'string') return undefined;
  const m = ISO_8601.exec(ts);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day < 1 || day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(-2));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const epoch = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
  return Number.isFinite(epoch) && epoch >= 0 ? epoch : undefined;
}

function reject(reason: RejectReason, detail: string, field?: string): ValidationResult {
  return { ok: false, rejection: field === undefined ? { reason, detail } : { reason, field, detail } };
}

/** Adds the payload's usable ids to a rejection (they key and trace its dead letter). */
function withIds(result: ValidationResult, raw: Record<string, unknown>): ValidationResult {
  if (result.ok) return result;
  const ids: RejectedIds = {};
  const { eventId, userId, sessionId } = raw;
  if (usableId(eventId)) ids.eventId = eventId;
  if (usableId(userId)) ids.userId = userId;
  else if (usableId(sessionId)) ids.sessionId = sessionId;
  if (ids.eventId !== undefined || ids.userId !== undefined || ids.sessionId !== undefined) result.ids = ids;
  return result;
}

function usableId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH && isWellFormed(v);
}

/** No lone UTF-16 surrogate (String.prototype.isWellFormed, ES2024). */
function isWellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
