import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from 'ioredis';
import type { RedisClient } from './cluster';

/** Lua scripts of `libs/platform/redis/lua`, named `<command>-<numberOfKeys>.lua` (`n`: variadic, the caller passes the count first). */
const SCRIPTS = ['writeWindow-n', 'allocItems-3', 'claimEvents-n', 'markPublished-n', 'beginMerge-2', 'commitMerge-3', 'endMerge-2', 'bumpTrending-n', 'eraseUser-5', 'eraseSession-2'] as const;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** The window and its guard: a session's merged marker (kind `s`), a user's deletion marker (kind `u`). */
    writeWindow(numberOfKeys: 2, windowKey: string, guardKey: string, expected: Buffer | string, next: Buffer, ttlMs: number, replace: '0' | '1', kind: 's' | 'u', deletedAt: string): Result<number, Context>;
    beginMergeBuffer(markerKey: string, sessionKey: string, userId: string, markerTtlMs: number): Result<[number, Buffer?], Context>;
    commitMerge(userKey: string, sessionsKey: string, markerKey: string, mergeId: string, expected: Buffer | string, next: Buffer, ttlMs: number, deletedAt: string): Result<number, Context>;
    eraseUser(windowKey: string, vectorKey: string, sessionsKey: string, loginsKey: string, markerKey: string, at: number, objection: '0' | '1', markerTtlMs: number, now: number): Result<Array<number | string>, Context>;
    eraseSession(markerKey: string, sessionKey: string, userId: string): Result<number, Context>;
    endMerge(markerKey: string, sessionKey: string, userId: string): Result<number, Context>;
    /** The state hash, the overall set and the batch's category sets, then partition, half-life, keep and (offset, ts, item, category set) quadruples. */
    bumpTrending(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Result<number, Context>;
    allocItems(indexKey: string, idsKey: string, counterKey: string, ...itemIds: string[]): Result<number[], Context>;
    claimEvents(numberOfKeys: number, ...keysTtlModeAndSources: string[]): Result<number[], Context>;
    markPublished(numberOfKeys: number, ...keysAndSources: string[]): Result<number, Context>;
  }
}

/** Domain failures signalled by scripts as negative integers. */
export enum ScriptCode {
  Conflict = -1,
  Stale = -2,
  /** A session's window refused a write: the session merged into a user. */
  Merged = -3,
  /** A session asked to merge into a user had merged into another one. */
  MergedElsewhere = -4,
  /** A user's window refused a write: the user was deleted after what the caller knew, or objects. */
  Deleted = -5,
}

const LUA_DIR = join(__dirname, '..', 'lua');
const loaded = new WeakSet<RedisClient>();

/**
 * Defines every script on a connection once (EVALSHA with automatic EVAL fallback). On a Cluster
 * the same: each script runs on the node of its keys' slot (every script's keys share a hash tag),
 * and ioredis loads it on each node connection the first time it is sent there.
 */
export function loadScripts<T extends RedisClient>(redis: T): T {
  if (loaded.has(redis)) return redis;
  for (const file of SCRIPTS) {
    const [name, keys] = file.split('-') as [string, string];
    const lua = readFileSync(join(LUA_DIR, `${file}.lua`), 'utf8');
    redis.defineCommand(name, keys === 'n' ? { lua } : { numberOfKeys: Number(keys), lua });
  }
  loaded.add(redis);
  return redis;
}
