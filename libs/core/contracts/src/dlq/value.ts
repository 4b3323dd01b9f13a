import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { RejectReason } from '../event/validate';

/** Where a rejected input came from. */
export type DeadLetterSource =
  | { kind: 'kafka'; topic: string; partition: number; offset: string }
  | { kind: 'http'; requestId: string; index: number }
  /** A user's stored window (sequence-builder: it could not be decoded and was rebuilt). */
  | { kind: 'window'; userId: string };

/**
 * One rejected input on the dead-letter topic. `original` is the payload as received (UTF-8 text;
 * `originalBase64` instead when the bytes were not valid UTF-8). A dead letter is bounded so it can
 * always be written under the topic's message size limit: an original over the limit (see
 * {@link DEAD_LETTER_MAX_ORIGINAL_BYTES}) keeps only its beginning, with `truncated`, its full
 * length in `originalBytes` and its SHA-256 in `originalSha256`; `detail` is at most
 * {@link DEAD_LETTER_MAX_DETAIL} characters.
 */
export interface DeadLetterV1 {
  reason: RejectReason;
  field?: string;
  detail: string;
  source: DeadLetterSource;
  /** Epoch ms when the ingester rejected it. */
  rejectedAt: number;
  original?: string;
  originalBase64?: string;
  /** Set when `original`/`originalBase64` hold only the first bytes of the payload. */
  truncated?: true;
  /** Length of the whole payload in bytes (set when truncated). */
  originalBytes?: number;
  /** SHA-256 of the whole payload, hex (set when truncated). */
  originalSha256?: string;
  /** The event id, when the payload got far enough to have one. */
  eventId?: string;
  userId?: string;
  /** The session id of an anonymous event (one without a usable `userId`). */
  sessionId?: string;
  /** The item id of a rejected catalogue item, when it had a usable one. */
  itemId?: string;
}

/** Default bound of a dead letter's original payload, bytes (INGEST_DLQ_MAX_ORIGINAL_BYTES). */
export const DEAD_LETTER_MAX_ORIGINAL_BYTES = 64 * 1024;
/** Longest `detail`, characters. */
export const DEAD_LETTER_MAX_DETAIL = 1_024;
/** Longest `field`, characters. */
export const DEAD_LETTER_MAX_FIELD = 256;

/**
 * Encodes the original payload for {@link DeadLetterV1}: whole when it is at most `maxBytes`,
 * otherwise its first `maxBytes` (cut on a character boundary for text) with its length and hash.
 * Worst case in the letter's JSON: six bytes per byte of text (`\u0000` escapes), so 64 KiB stays
 * far under Kafka's 1 MB default. `binary`: always base64 (a stored window, not a text payload).
 */
export function originalPayload(
  bytes: Buffer,
  maxBytes: number = DEAD_LETTER_MAX_ORIGINAL_BYTES,
  options: { binary?: boolean } = {},
): Pick<DeadLetterV1, 'original' | 'originalBase64' | 'truncated' | 'originalBytes' | 'originalSha256'> {
  const text = !options.binary && isUtf8(bytes);
  if (bytes.length <= maxBytes) return text ? { original: bytes.toString('utf8') } : { originalBase64: bytes.toString('base64') };
  let cut = Math.max(0, maxBytes);
  // back up to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx)
  if (text) while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  const head = bytes.subarray(0, cut);
  return {
    ...(text ? { original: head.toString('utf8') } : { originalBase64: head.toString('base64') }),
    truncated: true,
    originalBytes: bytes.length,
    originalSha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Bounds the free-text fields of a dead letter (a hostile key or message must not grow it). */
export function boundedLetter(letter: DeadLetterV1): DeadLetterV1 {
  if (letter.detail.length > DEAD_LETTER_MAX_DETAIL) letter.detail = `${letter.detail.slice(0, DEAD_LETTER_MAX_DETAIL - 1)}…`;
  if (letter.field !== undefined && letter.field.length > DEAD_LETTER_MAX_FIELD) letter.field = `${letter.field.slice(0, DEAD_LETTER_MAX_FIELD - 1)}…`;
  return letter;
}
