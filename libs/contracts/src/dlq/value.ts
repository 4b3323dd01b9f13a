import type { RejectReason } from '../event/validate';

/** Where a rejected input came from. */
export type DeadLetterSource =
  | { kind: 'kafka'; topic: string; partition: number; offset: string }
  | { kind: 'http'; requestId: string; index: number };

/**
 * One rejected input on the dead-letter topic. Nothing is lost: `original` is the payload exactly as
 * received (UTF-8 text; `originalBase64` instead when the bytes were not valid UTF-8).
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
  /** The event id, when the payload got far enough to have one. */
  eventId?: string;
  userId?: string;
}

/** Encodes the original payload losslessly for {@link DeadLetterV1}. */
export function originalPayload(bytes: Buffer): Pick<DeadLetterV1, 'original' | 'originalBase64'> {
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text) === bytes.length && !text.includes('\uFFFD')
    ? { original: text }
    : { originalBase64: bytes.toString('base64') };
}
