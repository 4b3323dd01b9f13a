import { jsonObject } from '../json-value';

/**
 * A user deletion or objection, on the compacted deletions topic keyed by the user id (the
 * pseudonym when pseudonymisation is on). The topic keeps each user's latest record: it is the list
 * of users whose past events every store and every retraining must ignore.
 *
 * - `objection: false` (right to be forgotten): everything of the user stamped at or before `at`
 *   is erased and ignored; a user who comes back later starts fresh.
 * - `objection: true` (right to object to profiling): every event of the user is ignored, whatever
 *   its time, until a record with `objection: false` (the objection withdrawn) replaces it.
 */
export interface UserDeletionV1 {
  userId: string;
  /** When the deletion (or objection) was recorded, epoch ms. */
  at: number;
  objection: boolean;
}

/** Parses a deletions-topic value; null when it is not a {@link UserDeletionV1} of that key. */
export function parseUserDeletion(value: Buffer | null, key: string | null): UserDeletionV1 | null {
  const v = key === null ? null : jsonObject(value);
  if (v === null) return null;
  const d = v as Partial<UserDeletionV1>;
  if (d.userId !== key || typeof d.at !== 'number' || !Number.isFinite(d.at) || typeof d.objection !== 'boolean') return null;
  return { userId: d.userId, at: d.at, objection: d.objection };
}

/**
 * Whether an event of a user with this deletion record must be ignored: every event of an objecting
 * user; for a deleted one, an event stamped (by its producer, `ts`, or by Kafka, `timestamp`) at or
 * before the deletion: it was in flight when the user was deleted.
 */
export function deletedEvent(d: Pick<UserDeletionV1, 'at' | 'objection'> | undefined | null, ts: number, timestamp?: number): boolean {
  if (!d) return false;
  return d.objection || ts <= d.at || (timestamp !== undefined && timestamp > 0 && timestamp <= d.at);
}
