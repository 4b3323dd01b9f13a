/**
 * A user's updated behaviour window, emitted by the sequence-builder after every applied batch
 * (coalesced: one message per user per batch). Keyed by user id.
 *
 * The window is newest-last and holds at most the configured window length.
 */
export interface SequenceUpdateV1 {
  userId: string;
  /** Events applied in this update (the rest of the window was already known). */
  applied: number;
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
