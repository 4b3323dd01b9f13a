/** Key of every message on the raw and events topics: the user id, so one user's events stay in order on one partition. */
export type EventKey = string;

export function eventKey(event: { userId: string }): EventKey {
  return event.userId;
}
