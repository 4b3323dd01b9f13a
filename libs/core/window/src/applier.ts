import { EVENT_TYPE_CODE, EVENT_TYPES, SeqrecError, deletedEvent, eventSubject, type EventSubject, type EventV1, type SubjectKind } from '@seqrec/contracts';
import { CodecError, decodeWindow, encodeWindow, type SequenceWindow, type Watermark } from './codec';
import type { DeletionMarker, ItemDictionary, MergeCommit, SequenceStore, WindowWrite } from './stores';
import { applyEvents, mergeWindows, sessionsOf, type IncomingEvent } from './window';

export interface ApplierOptions {
  /** Events kept per user (the window length N). */
  capacity: number;
  /** Inactivity gap that starts a new session, ms. */
  sessionGapMs: number;
  /** Compare-and-set retries per batch before giving up (a retriable error). */
  maxConflictRetries?: number;
}

export interface PositionedEvent {
  partition: number;
  offset: number;
  event: EventV1;
  /** The message's Kafka timestamp, epoch ms (an event stamped before its user's deletion is dropped). */
  timestamp?: number;
}

/** An event staged for a window, with its Kafka timestamp (for the deletion check). */
type Staged = IncomingEvent & { stamp: number };

export interface ApplyBatchResult {
  /** Windows (users' and sessions') the batch touched. */
  users: number;
  applied: number;
  stale: number;
  tooLate: number;
  conflicts: number;
  /** One per user whose window changed: the window as written (the window codec's bytes). */
  updates: Array<{ userId: string; window: Buffer; applied: number }>;
  /** Anonymous sessions whose window changed (their windows are read by the scorer, not published). */
  sessionUpdates: number;
  /**
   * Logins (events with both ids) by outcome: merged (the session's events moved into the user's
   * window), empty (the session had no events: it is closed, nothing moved), before (merged
   * earlier: a redelivery, or a later event of the logged-in session), taken (the session merged
   * into another user before).
   */
  merges: { merged: number; empty: number; before: number; taken: number };
  /**
   * Stored windows that could not be decoded and were replaced by a window rebuilt from this
   * batch's events (the lost history stays on the events topic): the corrupt bytes and why.
   * A corrupt session window met by a merge is dropped (its events are on the topic).
   */
  corrupt: Array<{ userId: string; window: Buffer; detail: string }>;
  /**
   * Events dropped because their user was deleted after they were stamped, or objects to
   * profiling (docs/privacy.md).
   */
  deleted: number;
}

export class ConflictError extends SeqrecError {
  constructor(readonly userIds: string[]) {
    // no user id in the message or the context: errors are logged (docs/privacy.md)
    super(`windows of ${userIds.length} users kept changing under us`, { retriable: true, context: { users: userIds.length } });
    this.name = 'ConflictError';
  }
}

/** The first event of a batch carrying both a user id and a session id: a login. */
interface Login {
  userId: string;
  ts: number;
  /** Its Kafka timestamp (0: none). */
  stamp: number;
}

/** Users whose deletion marker the applier remembers (see `SequenceApplier.knownDeletions`). */
const KNOWN_DELETIONS_MAX = 100_000;

/** Sessions remembered as merged (see `SequenceApplier.doneMerges`), and for how long. */
const DONE_MERGES_MAX = 100_000;
const DONE_MERGES_MS = 10 * 60_000;

/** A window's key inside one batch: kind and id. */
type SubjectKey = string;
const subjectKey = (kind: SubjectKind, id: string): SubjectKey => (kind === 'user' ? `u:${id}` : `s:${id}`);
const subjectOf = (key: SubjectKey): EventSubject => ({ kind: key[0] === 'u' ? 'user' : 'session', id: key.slice(2) });

/**
 * Applies a batch of events (from one partition) to users' and anonymous sessions' windows: one read
 * of all touched windows, one conditional write per window, re-read and recompute for windows that
 * changed meanwhile (another builder after a rebalance). Idempotent through the windows' watermarks.
 * A stored window that does not decode is replaced (compare-and-set on its exact bytes) by one built
 * from the batch's events and reported in `corrupt`: never an error that would stop the partition.
 *
 * An event's window is its subject's ({@link eventSubject}): its user, else its session. A session
 * that merged into a user (a login) takes no more events: they go to that user's window. An event
 * with both ids merges its session's window into its user's, once, after the batch's events are
 * applied (three idempotent steps, see {@link SequenceStore.beginMerge} and docs/durability.md).
 */
export class SequenceApplier {
  /**
   * Sessions whose merge into a user is done (seen done in the store, or finished here), until when:
   * a logged-in shopper's events all carry the session id, and asking the store again for each batch
   * would cost a script call per session per batch for nothing. Bounded in size and time (a link
   * expires; a session anonymous again after that merges at its next login).
   */
  private readonly doneMerges = new Map<string, { userId: string; until: number }>();
  /**
   * Deletion markers met (a write refused, a login checked): a returning user's later batches are
   * written knowing the deletion at once. Never trusted alone: a later deletion makes the window
   * script refuse again, and a marker gone from the store is forgotten here when met.
   */
  private readonly knownDeletions = new Map<string, DeletionMarker>();

  constructor(
    private readonly store: SequenceStore,
    private readonly items: ItemDictionary,
    private readonly options: ApplierOptions,
  ) {}

  async apply(input: PositionedEvent[]): Promise<ApplyBatchResult> {
    const userIds = new Set<string>();
    const itemIds = new Set<string>();
    for (const { event } of input) {
      if (event.userId !== undefined) userIds.add(event.userId);
      if (event.itemId !== undefined) itemIds.add(event.itemId);
    }
    const ids = [...itemIds];
    const indices = await this.items.indicesOf(ids);
    // Deletions this applier has met (refused writes, merges) drop their events here; any other is
    // met by the window scripts, which refuse the write of a user whose marker the caller did not
    // know (then the markers are read and the events they cover dropped): no read on the hot path.
    const deletions = new Map<string, DeletionMarker>();
    if (this.knownDeletions.size > 0) {
      for (const u of userIds) {
        // a deletion's time only moves forward (safe to drop against); an objection can be withdrawn: the script decides
        const m = this.knownDeletions.get(u);
        if (m && !m.objection) deletions.set(u, m);
      }
    }
    const batch = deletions.size === 0 ? input : input.filter((pe) => pe.event.userId === undefined || !deletedEvent(deletions.get(pe.event.userId), pe.event.ts, pe.timestamp));
    const indexOf = new Map(ids.map((id, i) => [id, indices[i]!]));

    // anonymous events of sessions that merged into a user go to that user
    const anonymous = new Map<string, PositionedEvent[]>();
    const bySubject = new Map<SubjectKey, Staged[]>();
    const logins = new Map<string, Login>();
    for (const pe of batch) {
      const { event } = pe;
      if (event.userId !== undefined && event.sessionId !== undefined && !logins.has(event.sessionId)) logins.set(event.sessionId, { userId: event.userId, ts: event.ts, stamp: pe.timestamp ?? 0 });
      if (event.userId === undefined) {
        let list = anonymous.get(event.sessionId!);
        if (!list) anonymous.set(event.sessionId!, (list = []));
        list.push(pe);
      }
    }
    const redirect = anonymous.size > 0 ? await this.redirects([...anonymous.keys()]) : new Map<string, string>();
    for (const pe of batch) {
      const { event } = pe;
      const into = event.userId === undefined ? redirect.get(event.sessionId!) : undefined;
      const key = into !== undefined ? subjectKey('user', into) : subjectKey(eventSubject(event).kind, eventSubject(event).id);
      let list = bySubject.get(key);
      if (!list) bySubject.set(key, (list = []));
      list.push(incoming(pe, indexOf));
    }

    const result: ApplyBatchResult = {
      users: bySubject.size,
      applied: 0,
      stale: 0,
      tooLate: 0,
      conflicts: 0,
      updates: [],
      sessionUpdates: 0,
      merges: { merged: 0, empty: 0, before: 0, taken: 0 },
      corrupt: [],
      deleted: input.length - batch.length,
    };
    const changed = new Map<SubjectKey, { window: Buffer; applied: number }>();
    let pending = [...bySubject.keys()];
    const retries = this.options.maxConflictRetries ?? 5;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > retries) throw new ConflictError(pending.map((k) => subjectOf(k).id));
      const stored = await this.read(pending);
      const writes: WindowWrite[] = [];
      const outcomes: Array<{ key: SubjectKey; window: Buffer; applied: number; stale: number; tooLate: number; corrupt?: { bytes: Buffer; detail: string } }> = [];
      pending.forEach((key, k) => {
        const expected = stored[k] ?? null;
        let current: SequenceWindow | null = null;
        let corrupt: string | undefined;
        if (expected) {
          try {
            current = decodeWindow(expected);
          } catch (err) {
            if (!(err instanceof CodecError)) throw err;
            corrupt = err.message;
          }
        }
        const r = applyEvents(current, bySubject.get(key)!, this.options.capacity);
        if (r.applied + r.tooLate === 0 && corrupt === undefined) {
          result.stale += r.stale;
          return;
        }
        const next = encodeWindow(r.window);
        const { kind, id } = subjectOf(key);
        const deletedAt = kind === 'user' ? deletions.get(id)?.at : undefined;
        writes.push({ userId: id, ...(kind === 'session' ? { kind } : {}), expected, next, ...(corrupt === undefined ? {} : { replace: true }), ...(deletedAt === undefined ? {} : { deletedAt }) });
        outcomes.push({ key, window: next, applied: r.applied, stale: r.stale, tooLate: r.tooLate, ...(corrupt === undefined ? {} : { corrupt: { bytes: expected!, detail: corrupt } }) });
      });
      const written = await this.store.writeMany(writes);
      const retry: SubjectKey[] = [];
      const mergedSessions: string[] = [];
      const deletedUsers: string[] = [];
      written.forEach((outcome, k) => {
        const o = outcomes[k]!;
        if (outcome === 'ok') {
          if (o.corrupt !== undefined) result.corrupt.push({ userId: subjectOf(o.key).id, window: o.corrupt.bytes, detail: o.corrupt.detail });
          result.applied += o.applied;
          result.stale += o.stale;
          result.tooLate += o.tooLate;
          if (o.applied > 0) changed.set(o.key, { window: o.window, applied: o.applied });
        } else if (outcome === 'merged') {
          mergedSessions.push(subjectOf(o.key).id);
        } else if (outcome === 'deleted') {
          deletedUsers.push(subjectOf(o.key).id);
        } else {
          result.conflicts++;
          retry.push(o.key);
        }
      });
      // sessions that merged into a user while we computed (a login on another partition): their
      // events go to the user's window; offsets of the session's partition above its final window's
      retry.push(...(await this.moveToUsers(mergedSessions, bySubject)));
      // users deleted (or objecting) since the markers were read: drop what the marker covers, retry the rest
      if (deletedUsers.length > 0) retry.push(...(await this.dropDeleted(deletedUsers, deletions, bySubject, result)));
      pending = [...new Set(retry)];
    }
    if (logins.size > 0) await this.merge(logins, changed, result, deletions);
    for (const [key, c] of changed) {
      const { kind, id } = subjectOf(key);
      if (kind === 'user') result.updates.push({ userId: id, window: c.window, applied: c.applied });
      else result.sessionUpdates++;
    }
    return result;
  }

  /** Deletion markers of the users that have one (remembered: see {@link knownDeletions}). */
  private async deletions(userIds: string[]): Promise<Map<string, DeletionMarker>> {
    const out = new Map<string, DeletionMarker>();
    if (userIds.length === 0) return out;
    const markers = await this.store.markers(userIds);
    userIds.forEach((u, i) => {
      const m = markers[i];
      if (m) {
        out.set(u, m);
        if (this.knownDeletions.size >= KNOWN_DELETIONS_MAX) this.knownDeletions.delete(this.knownDeletions.keys().next().value!);
        this.knownDeletions.set(u, m);
      } else this.knownDeletions.delete(u);
    });
    return out;
  }

  /** Reads the markers of users whose window refused a write, drops the events they cover; the keys still to write. */
  private async dropDeleted(userIds: string[], deletions: Map<string, DeletionMarker>, bySubject: Map<SubjectKey, Staged[]>, result: ApplyBatchResult): Promise<SubjectKey[]> {
    const fresh = await this.deletions(userIds);
    const keys: SubjectKey[] = [];
    for (const u of userIds) {
      const key = subjectKey('user', u);
      const marker = fresh.get(u);
      // the marker vanished (expired) between the refusal and now: write as if it never was
      if (!marker) {
        deletions.delete(u);
        keys.push(key);
        continue;
      }
      deletions.set(u, marker);
      const list = bySubject.get(key)!;
      const kept = list.filter((e) => !deletedEvent(marker, e.ts, e.stamp));
      result.deleted += list.length - kept.length;
      if (kept.length === 0) {
        bySubject.delete(key);
        continue;
      }
      bySubject.set(key, kept);
      keys.push(key);
    }
    return keys;
  }

  private async read(keys: SubjectKey[]): Promise<Array<Buffer | null>> {
    const users: string[] = [];
    const sessions: string[] = [];
    for (const key of keys) (key[0] === 'u' ? users : sessions).push(key.slice(2));
    const [u, s] = await Promise.all([users.length ? this.store.getMany(users) : [], sessions.length ? this.store.getMany(sessions, 'session') : []]);
    let i = 0;
    let j = 0;
    return keys.map((key) => (key[0] === 'u' ? u[i++]! : s[j++]!));
  }

  private async redirects(sessionIds: string[]): Promise<Map<string, string>> {
    const into = await this.store.mergedInto(sessionIds);
    const out = new Map<string, string>();
    sessionIds.forEach((s, i) => {
      if (into[i] != null) out.set(s, into[i]!);
    });
    return out;
  }

  /** Moves the events of sessions that refused them (merged) to their users' lists; the users' keys. */
  private async moveToUsers(sessionIds: string[], bySubject: Map<SubjectKey, Staged[]>): Promise<SubjectKey[]> {
    if (sessionIds.length === 0) return [];
    const into = await this.redirects(sessionIds);
    const keys: SubjectKey[] = [];
    for (const s of sessionIds) {
      const userId = into.get(s);
      // the marker vanished between the refusal and now (deleted): the session's window takes them again
      if (userId === undefined) {
        keys.push(subjectKey('session', s));
        continue;
      }
      const key = subjectKey('user', userId);
      const moved = bySubject.get(subjectKey('session', s))!;
      bySubject.delete(subjectKey('session', s));
      const list = bySubject.get(key) ?? [];
      list.push(...moved);
      bySubject.set(key, list);
      keys.push(key);
    }
    return keys;
  }

  /**
   * Merges each login's session window into its user's: step 1 closes the session and takes its
   * final window, step 2 writes the merged user window with the link (compare-and-set, retried on
   * conflict), step 3 deletes the session window. Every step is idempotent, so a crash anywhere and
   * the login's redelivery end in the same state with the session's events in the user's window once.
   */
  private async merge(
    logins: Map<string, Login>,
    changed: Map<SubjectKey, { window: Buffer; applied: number }>,
    result: ApplyBatchResult,
    deletions: Map<string, DeletionMarker>,
  ): Promise<void> {
    const now = Date.now();
    let pairs: Array<{ sessionId: string; userId: string; login: Login }> = [];
    for (const [sessionId, login] of logins) {
      const done = this.doneMerges.get(sessionId);
      if (done && done.userId === login.userId && done.until > now) result.merges.before++;
      else pairs.push({ sessionId, userId: login.userId, login });
    }
    if (pairs.length === 0) return;
    // a login stamped before its user's deletion (in flight) links nothing: the markers of the
    // users not met yet (one read per new login, not per event)
    const unknown = [...new Set(pairs.map((p) => p.userId).filter((u) => !deletions.has(u)))];
    for (const [u, m] of await this.deletions(unknown)) deletions.set(u, m);
    if (deletions.size > 0) {
      // (the login's event itself is counted where its window write was refused)
      pairs = pairs.filter((p) => !deletedEvent(deletions.get(p.userId), p.login.ts, p.login.stamp));
      if (pairs.length === 0) return;
    }
    // the user's side first: an erasure of the user then always finds the session it links
    await this.store.linkSessions(pairs);
    const starts = await this.store.beginMerge(pairs);
    let open: Array<{ sessionId: string; userId: string; session: SequenceWindow & { watermark: Watermark } }> = [];
    const finished: Array<{ sessionId: string; userId: string }> = [];
    pairs.forEach((p, i) => {
      const s = starts[i]!;
      if (s.status === 'done') {
        result.merges.before++;
        this.rememberDone(p);
      } else if (s.status === 'taken') result.merges.taken++;
      else {
        const session = this.sessionWindow(p.sessionId, s.window, result);
        // nothing to move (the session was never anonymous, or not yet): closing it was the merge
        if (session === null || session.watermark === null || session.events.length === 0) {
          result.merges.empty++;
          finished.push(p);
        } else open.push({ ...p, session: session as SequenceWindow & { watermark: Watermark } });
      }
    });
    const retries = this.options.maxConflictRetries ?? 5;
    for (let attempt = 0; open.length > 0; attempt++) {
      if (attempt > retries) throw new ConflictError(open.map((o) => o.userId));
      const stored = await this.store.getMany(open.map((o) => o.userId));
      const commits: MergeCommit[] = open.map((o, i) => ({
        userId: o.userId,
        sessionId: o.sessionId,
        mergeId: `${o.sessionId}@${o.session.watermark.partition}:${o.session.watermark.offset}`,
        expected: stored[i] ?? null,
        next: encodeWindow(mergeWindows(this.userWindow(stored[i] ?? null), o.session, this.options.capacity)),
        ...(deletions.has(o.userId) ? { deletedAt: deletions.get(o.userId)!.at } : {}),
      }));
      const outcomes = await this.store.commitMerge(commits);
      const again: typeof open = [];
      outcomes.forEach((outcome, i) => {
        const o = open[i]!;
        if (outcome === 'conflict') {
          result.conflicts++;
          again.push(o);
          return;
        }
        // the user was deleted meanwhile: its erasure removes the session and the link
        if (outcome === 'deleted') return;
        finished.push({ sessionId: o.sessionId, userId: o.userId });
        if (outcome === 'done') {
          result.merges.before++;
          return;
        }
        result.merges.merged++;
        const key = subjectKey('user', o.userId);
        changed.set(key, { window: commits[i]!.next, applied: (changed.get(key)?.applied ?? 0) + o.session.events.length });
      });
      open = again;
    }
    if (finished.length > 0) {
      await this.store.endMerge(finished);
      for (const f of finished) this.rememberDone(f);
    }
  }

  private rememberDone({ sessionId, userId }: { sessionId: string; userId: string }): void {
    if (this.doneMerges.size >= DONE_MERGES_MAX) this.doneMerges.delete(this.doneMerges.keys().next().value!);
    this.doneMerges.set(sessionId, { userId, until: Date.now() + DONE_MERGES_MS });
  }

  /** A session's final window, or null (none, or corrupt: dropped and reported). */
  private sessionWindow(sessionId: string, bytes: Buffer | null, result: ApplyBatchResult): SequenceWindow | null {
    if (bytes === null) return null;
    try {
      return decodeWindow(bytes);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      result.corrupt.push({ userId: sessionId, window: bytes, detail: `session window: ${err.message}` });
      return null;
    }
  }

  /** A user's window for a merge; a corrupt one is replaced by the session's events (its own are on the topic). */
  private userWindow(bytes: Buffer | null): SequenceWindow | null {
    if (bytes === null) return null;
    try {
      return decodeWindow(bytes);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      return null;
    }
  }
}

function incoming({ partition, offset, event, timestamp }: PositionedEvent, indexOf: Map<string, number>): Staged {
  return { item: event.itemId === undefined ? -1 : indexOf.get(event.itemId)!, type: EVENT_TYPE_CODE[event.type], ts: event.ts, partition, offset, stamp: timestamp ?? 0 };
}

/** Decodes a stored window into the public shape (item ids resolved, sessions numbered). */
export async function describeWindow(
  buf: Buffer,
  items: ItemDictionary,
  sessionGapMs: number,
): Promise<{ watermark: SequenceWindow['watermark']; events: Array<{ itemId: string | null; type: string; ts: number; session: number }> }> {
  const w = decodeWindow(buf);
  const ids = await items.idsOf(w.events.map((e) => Math.max(e.item, 0)));
  const sessions = sessionsOf(w.events, sessionGapMs);
  return {
    watermark: w.watermark,
    events: w.events.map((e, i) => ({
      itemId: e.item >= 0 ? (ids[i] ?? null) : null,
      type: EVENT_TYPES[e.type] ?? `type${e.type}`,
      ts: e.ts,
      session: sessions[i]!,
    })),
  };
}
