import type { EventSubject } from '@seqrec/contracts';
import type { SequenceStore } from '@seqrec/window';

/**
 * Whose live window a scorer request reads: a user's (`userId`) or an anonymous session's
 * (`sessionId`). A session that logged in (merged into a user's window, its own deleted) is
 * answered from that user's window: the shopper is the same, and the merged window holds the
 * session's events.
 */
export async function readSubjectWindows(store: SequenceStore, subjects: readonly EventSubject[]): Promise<Array<Buffer | null>> {
  const users: number[] = [];
  const sessions: number[] = [];
  subjects.forEach((s, i) => (s.kind === 'user' ? users : sessions).push(i));
  const out = new Array<Buffer | null>(subjects.length).fill(null);
  const [u, s] = await Promise.all([
    users.length ? store.getMany(users.map((i) => subjects[i]!.id)) : [],
    sessions.length ? store.getMany(sessions.map((i) => subjects[i]!.id), 'session') : [],
  ]);
  users.forEach((i, k) => (out[i] = u[k] ?? null));
  sessions.forEach((i, k) => (out[i] = s[k] ?? null));
  const missing = sessions.filter((i) => out[i] === null);
  if (missing.length > 0) {
    const into = await store.mergedInto(missing.map((i) => subjects[i]!.id));
    const merged = missing.map((i, k) => ({ i, userId: into[k] })).filter((m): m is { i: number; userId: string } => m.userId != null);
    if (merged.length > 0) {
      const w = await store.getMany(merged.map((m) => m.userId));
      merged.forEach((m, k) => (out[m.i] = w[k] ?? null));
    }
  }
  return out;
}

/** The answer's id field: `{ userId }` or `{ sessionId }`. */
export function subjectField(subject: EventSubject): { userId: string } | { sessionId: string } {
  return subject.kind === 'user' ? { userId: subject.id } : { sessionId: subject.id };
}

/** The subject of a rank request (the request schema lets exactly one of the ids through). */
export function rankSubject(req: { userId?: string; sessionId?: string }): EventSubject {
  return req.userId !== undefined ? { kind: 'user', id: req.userId } : { kind: 'session', id: req.sessionId! };
}
