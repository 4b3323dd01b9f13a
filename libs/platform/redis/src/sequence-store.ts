import type { RedisKeys, SubjectKind, UserDeletionV1 } from '@seqrec/contracts';
import { sessionOfMerge, type DeletionMarker, type EraseOutcome, type MergeCommit, type MergeCommitOutcome, type MergeStart, type SequenceStore, type WindowWrite, type WriteOutcome } from '@seqrec/window';
import { pipelinePerKey, type PipelineReply, type RedisClient } from './cluster';
import { getBuffers } from './get-buffers';
import { ScriptCode } from './scripts';

export interface RedisSequenceStoreOptions {
  /** Expire a user's window (and its merged-sessions set) after this long without updates (ms); 0 keeps it forever. */
  ttlMs: number;
  /** Expire an anonymous session's window after this long without updates (ms); 0 keeps it forever. Default: `ttlMs`. */
  sessionTtlMs?: number;
  /** Lifetime of a user's deletion marker (ms; 0: forever): at least as long as an event stamped before the deletion may still arrive. Default 30 days. */
  markerTtlMs?: number;
}

/**
 * {@link SequenceStore} on Redis: one string per user and per anonymous session, conditional
 * writes in `writeWindow-n.lua`, session merges in `beginMerge-2`, `commitMerge-3` and
 * `endMerge-2` (each on one slot: the session's or the user's; see docs/durability.md).
 */
export class RedisSequenceStore implements SequenceStore {
  private readonly sessionTtlMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: RedisSequenceStoreOptions,
  ) {
    this.sessionTtlMs = options.sessionTtlMs ?? options.ttlMs;
  }

  async getMany(ids: string[], kind: SubjectKind = 'user'): Promise<Array<Buffer | null>> {
    const key = kind === 'user' ? (u: string) => this.keys.userSequence(u) : (s: string) => this.keys.sessionSequence(s);
    return (await getBuffers(this.redis, ids.map(key))).map(([err, v]) => {
      if (err) throw err;
      return v;
    });
  }

  async writeMany(writes: WindowWrite[]): Promise<WriteOutcome[]> {
    if (writes.length === 0) return [];
    const keys = writes.map((w) => (w.kind === 'session' ? this.keys.sessionSequence(w.userId) : this.keys.userSequence(w.userId)));
    const res = await pipelinePerKey(this.redis, keys, (pipe, key, i) => {
      const w = writes[i]!;
      const session = w.kind === 'session';
      const guard = session ? this.keys.sessionMergedInto(w.userId) : this.keys.userDeleted(w.userId);
      const ttl = session ? this.sessionTtlMs : this.options.ttlMs;
      return pipe.writeWindow(2, key, guard, w.expected ?? '', w.next, ttl, w.replace ? '1' : '0', session ? 's' : 'u', w.deletedAt === undefined ? '' : String(w.deletedAt));
    });
    return res.map(([err, code]) => {
      if (err) throw err;
      if (code === 1) return 'ok';
      if (code === ScriptCode.Conflict) return 'conflict';
      if (code === ScriptCode.Stale) return 'stale';
      if (code === ScriptCode.Merged) return 'merged';
      if (code === ScriptCode.Deleted) return 'deleted';
      throw new Error(`writeWindow returned unexpected ${String(code)}`);
    });
  }

  async mergedInto(sessionIds: string[]): Promise<Array<string | null>> {
    if (sessionIds.length === 0) return [];
    return (await getBuffers(this.redis, sessionIds.map((s) => this.keys.sessionMergedInto(s)))).map(([err, v]) => {
      if (err) throw err;
      return v === null ? null : v.toString('utf8').slice(2);
    });
  }

  async beginMerge(merges: Array<{ sessionId: string; userId: string }>): Promise<MergeStart[]> {
    if (merges.length === 0) return [];
    const keys = merges.map((m) => this.keys.sessionMergedInto(m.sessionId));
    // the marker lives as long as a session window would: anonymous events may still come that long
    const res = await pipelinePerKey(this.redis, keys, (pipe, key, i) => pipe.beginMergeBuffer(key, this.keys.sessionSequence(merges[i]!.sessionId), merges[i]!.userId, this.sessionTtlMs));
    return res.map(([err, reply]): MergeStart => {
      if (err) throw err;
      const [code, value] = reply as [number, Buffer | undefined];
      if (code === 1) return { status: 'open', window: value ?? null };
      if (code === 0) return { status: 'done' };
      if (code === ScriptCode.MergedElsewhere) return { status: 'taken', userId: value!.toString('utf8') };
      throw new Error(`beginMerge returned unexpected ${String(code)}`);
    });
  }

  async commitMerge(commits: MergeCommit[]): Promise<MergeCommitOutcome[]> {
    if (commits.length === 0) return [];
    const keys = commits.map((c) => this.keys.userSequence(c.userId));
    const res = await pipelinePerKey(this.redis, keys, (pipe, key, i) => {
      const c = commits[i]!;
      return pipe.commitMerge(key, this.keys.userMergedSessions(c.userId), this.keys.userDeleted(c.userId), c.mergeId, c.expected ?? '', c.next, this.options.ttlMs, c.deletedAt === undefined ? '' : String(c.deletedAt));
    });
    return res.map(([err, code]): MergeCommitOutcome => {
      if (err) throw err;
      if (code === 1) return 'ok';
      if (code === 0) return 'done';
      if (code === ScriptCode.Conflict) return 'conflict';
      if (code === ScriptCode.Deleted) return 'deleted';
      throw new Error(`commitMerge returned unexpected ${String(code)}`);
    });
  }

  async endMerge(merges: Array<{ sessionId: string; userId: string }>): Promise<void> {
    if (merges.length === 0) return;
    const keys = merges.map((m) => this.keys.sessionMergedInto(m.sessionId));
    const res: PipelineReply[] = await pipelinePerKey(this.redis, keys, (pipe, key, i) => pipe.endMerge(key, this.keys.sessionSequence(merges[i]!.sessionId), merges[i]!.userId));
    for (const [err] of res) if (err) throw err;
  }

  async memoryUsage(userId: string): Promise<number | null> {
    const n = (await this.redis.call('MEMORY', 'USAGE', this.keys.userSequence(userId), 'SAMPLES', '0')) as number | null;
    return n ?? null;
  }

  async linkSessions(logins: Array<{ sessionId: string; userId: string }>): Promise<void> {
    if (logins.length === 0) return;
    // one command per key in a pipeline: SADD then PEXPIRE of each set (the window's TTL)
    const expire = this.options.ttlMs > 0;
    const keys = logins.flatMap((l) => (expire ? [this.keys.userLogins(l.userId), this.keys.userLogins(l.userId)] : [this.keys.userLogins(l.userId)]));
    const res = await pipelinePerKey(this.redis, keys, (pipe, key, i) => (expire && i % 2 === 1 ? pipe.pexpire(key, this.options.ttlMs) : pipe.sadd(key, logins[expire ? i >> 1 : i]!.sessionId)));
    for (const [err] of res) if (err) throw err;
  }

  async markers(userIds: string[]): Promise<Array<DeletionMarker | null>> {
    if (userIds.length === 0) return [];
    return (await getBuffers(this.redis, userIds.map((u) => this.keys.userDeleted(u)))).map(([err, v]) => {
      if (err) throw err;
      if (v === null) return null;
      const s = v.toString('utf8');
      return s.startsWith('o:') ? { at: Number(s.slice(2)), objection: true } : { at: Number(s), objection: false };
    });
  }

  async erase(d: UserDeletionV1): Promise<EraseOutcome> {
    const k = this.keys;
    const u = d.userId;
    const reply = (await this.redis.eraseUser(k.userSequence(u), k.userVector(u), k.userMergedSessions(u), k.userLogins(u), k.userDeleted(u), d.at, d.objection ? '1' : '0', this.options.markerTtlMs ?? 30 * 86_400_000, Date.now())) as Array<number | string>;
    if (reply[0] !== 1) return { applied: false, keys: 0, sessions: 0 };
    const merges = Number(reply[2]);
    const sessions = [...new Set([...reply.slice(3, 3 + merges).map((m) => sessionOfMerge(String(m))), ...reply.slice(3 + merges).map(String)])];
    let keys = Number(reply[1]);
    let erased = 0;
    if (sessions.length > 0) {
      const res = await pipelinePerKey(
        this.redis,
        sessions.map((s) => k.sessionMergedInto(s)),
        (pipe, key, i) => pipe.eraseSession(key, k.sessionSequence(sessions[i]!), u),
      );
      for (const [err, n] of res) {
        if (err) throw err;
        if ((n as number) > 0) erased++;
        keys += n as number;
      }
    }
    return { applied: true, keys, sessions: erased };
  }
}
