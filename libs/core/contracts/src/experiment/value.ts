import { jsonObject } from '../json-value';

/**
 * One answer shown to a shopper while an experiment runs, on the impressions topic keyed by the
 * subject (the user id, the pseudonym when pseudonymisation is on, or the session id). Clicks, carts
 * and purchases join it by `requestId` (an event's `context.requestId`), or by subject and item
 * within the experiment's attribution window (docs/experiments.md).
 */
export interface ImpressionV1 {
  requestId: string;
  experiment: string;
  /** The variant that answered, or `holdout`. */
  variant: string;
  userId?: string;
  sessionId?: string;
  /** `recommendations` or `rank`. */
  route: 'recommendations' | 'rank';
  /** The items in the order shown: an item's position is its index + 1. */
  items: string[];
  model: { name: string; version: string };
  /** When the answer was made, epoch ms. */
  ts: number;
}

const MAX_IMPRESSION_ITEMS = 1_000;

/** Parses an impressions-topic value; null when it is not an {@link ImpressionV1}. */
export function parseImpression(value: Buffer | null): ImpressionV1 | null {
  const v = jsonObject(value);
  if (v === null) return null;
  const i = v as Partial<ImpressionV1>;
  const str = (s: unknown) => typeof s === 'string' && s.length > 0 && s.length <= 256;
  if (!str(i.requestId) || !str(i.experiment) || !str(i.variant)) return null;
  if ((i.userId === undefined) === (i.sessionId === undefined)) return null;
  if (i.userId !== undefined && !str(i.userId)) return null;
  if (i.sessionId !== undefined && !str(i.sessionId)) return null;
  if (i.route !== 'recommendations' && i.route !== 'rank') return null;
  if (!Array.isArray(i.items) || i.items.length > MAX_IMPRESSION_ITEMS || !i.items.every(str)) return null;
  if (typeof i.model !== 'object' || i.model === null || !str(i.model.name) || !str(i.model.version)) return null;
  if (typeof i.ts !== 'number' || !Number.isFinite(i.ts)) return null;
  return {
    requestId: i.requestId!,
    experiment: i.experiment!,
    variant: i.variant!,
    ...(i.userId !== undefined ? { userId: i.userId } : { sessionId: i.sessionId! }),
    route: i.route,
    items: i.items,
    model: { name: i.model.name, version: i.model.version },
    ts: i.ts,
  };
}
