import { TypeCompiler } from '@sinclair/typebox/compiler';
import { isUtf8 } from 'node:buffer';
import { RejectReason, type Rejection } from '../event/validate';
import { TOO_DEEP, scanJson } from '../event/json-scan';
import { ItemSchema, type ItemV1 } from './value';

/** Largest item message accepted, bytes (a 1,024-dimension image vector as JSON fits). */
export const MAX_ITEM_BYTES = 64 * 1024;

const compiled = TypeCompiler.Compile(ItemSchema);

export type ItemValidation = { ok: true; item: ItemV1 } | { ok: false; rejection: Rejection; itemId?: string };

/**
 * Parses and validates one item message; never throws. Checked as events are: size (`too_large`),
 * UTF-8 (`invalid_encoding`), nesting (`too_deep`: an item is an object whose `attributes` hold
 * scalars, so 2 levels), a key twice in one object (`duplicate_key`), JSON (`invalid_json`), then
 * the schema (`invalid_field` naming the field as a JSON pointer), finite image values.
 */
export function parseItem(bytes: Buffer | string, maxBytes = MAX_ITEM_BYTES): ItemValidation {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  if (buf.length > maxBytes) return reject(RejectReason.TooLarge, `item is ${buf.length} bytes, the limit is ${maxBytes}`);
  if (!isUtf8(buf)) return reject(RejectReason.InvalidEncoding, 'the bytes are not valid UTF-8 (JSON text must be)');
  const members = scanJson(buf, 0, buf.length, 2);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    return reject(RejectReason.InvalidJson, `not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return reject(RejectReason.NotAnObject, 'expected a JSON object (an item)');
  const raw = parsed as Record<string, unknown>;
  const itemId = typeof raw['itemId'] === 'string' ? raw['itemId'] : undefined;
  const withId = (r: ItemValidation) => (itemId && !r.ok ? { ...r, itemId } : r);
  if (members === TOO_DEEP) return withId(reject(RejectReason.TooDeep, 'nested deeper than 2 levels (attributes hold strings, numbers or booleans)'));
  if (members !== countMembers(raw)) return withId(reject(RejectReason.DuplicateKey, 'the same key appears twice in one object'));
  if (Object.prototype.hasOwnProperty.call(raw, '__proto__') || (raw['attributes'] && Object.prototype.hasOwnProperty.call(raw['attributes'], '__proto__'))) {
    return withId(reject(RejectReason.InvalidField, 'a __proto__ key is not accepted', '/__proto__'));
  }
  const first = compiled.Errors(raw).First();
  if (first) return withId(reject(RejectReason.InvalidField, `${first.path || '/'}: ${first.message}`, first.path || undefined));
  const item = raw as ItemV1;
  if (item.imageVector?.some((v) => !Number.isFinite(v))) return withId(reject(RejectReason.InvalidField, '/imageVector: every value must be a finite number', '/imageVector'));
  if (hasLoneSurrogate(item.itemId)) return withId(reject(RejectReason.InvalidEncoding, '/itemId: holds a lone UTF-16 surrogate', '/itemId'));
  return { ok: true, item };
}

function countMembers(raw: Record<string, unknown>): number {
  let n = 0;
  for (const k in raw) {
    n++;
    const v = raw[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) n += Object.keys(v).length;
  }
  return n;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

function reject(reason: RejectReason, detail: string, field?: string): ItemValidation {
  return { ok: false, rejection: { reason, detail, ...(field ? { field } : {}) } };
}
