/**
 * A user's updated behaviour window, as its consumers see it after decoding. On the wire (topic
 * `sequence.internal.window.updated.2`, one message per user per applied batch, keyed by user id)
 * the value is the window itself in the window codec of `@seqrec/window` (the bytes the state
 * store holds: item indices of the item dictionary, second-resolution times, about 3 bytes per
 * event) and the message timestamp is when it was written; `decodeWindowUpdates` in
 * `@seqrec/window` turns messages into this shape. (Version 1 carried this shape as JSON: ~2 KB
 * per full window, and the builder had to resolve every item id to write it.)
 *
 * The window is newest-last and holds at most the configured window length.
 */
export interface WindowUpdate {
  userId: string;
  /** Epoch ms of the newest event in the window. */
  lastTs: number;
  /** Epoch ms when the window was written to the state store (freshness tracking). */
  updatedAt: number;
  items: string[];
  /** Event type per position (`EVENT_TYPES` index). */
  types: number[];
  /** Epoch ms per position. */
  ts: number[];
  /** Session number per position, counting from 0 at the oldest event of the window. */
  sessions: number[];
}
