/**
 * Key of every message on the raw and events topics: the event's subject id (the user id, or the
 * session id of an anonymous event), so one subject's events stay in order on one partition.
 */
export type EventKey = string;

/** Whose window an event belongs to: a known user, or an anonymous session. */
export type SubjectKind = 'user' | 'session';

export interface EventSubject {
  kind: SubjectKind;
  id: string;
}

/**
 * The subject of an event: its user when it has a `userId` (a logged-in shopper; a `sessionId`
 * beside it names the anonymous session to merge), else its session. Validation guarantees one of
 * the two ids.
 */
export function eventSubject(event: { userId?: string; sessionId?: string }): EventSubject {
  if (event.userId !== undefined) return { kind: 'user', id: event.userId };
  if (event.sessionId !== undefined) return { kind: 'session', id: event.sessionId };
  throw new TypeError('an event needs a userId or a sessionId (validation lets no other through)');
}

export function eventKey(event: { userId?: string; sessionId?: string }): EventKey {
  return event.userId ?? event.sessionId!;
}
