/**
 * Where the embedding service keeps user vectors; the binary format is `@seqrec/window`'s
 * `encodeUserVector` (shared with the scorer, which reads it).
 */
import type { RedisKeys } from '@seqrec/contracts';
import { pipelinePerKey, type RedisClient } from '@seqrec/redis';
import { decodeUserVector, encodeUserVector, type UserVector } from '@seqrec/window';

export type { UserVector };

export interface UserVectorStore {
  putMany(entries: Array<{ userId: string; vector: UserVector }>): Promise<void>;
  get(userId: string): Promise<UserVector | null>;
  deleteMany(userIds: string[]): Promise<void>;
}

export class RedisUserVectorStore implements UserVectorStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly ttlMs: number,
  ) {}

  async putMany(entries: Array<{ userId: string; vector: UserVector }>): Promise<void> {
    if (entries.length === 0) return;
    const keys = entries.map((e) => this.keys.userVector(e.userId));
    const res = await pipelinePerKey(this.redis, keys, (pipe, key, i) => pipe.set(key, encodeUserVector(entries[i]!.vector), 'PX', this.ttlMs));
    for (const [err] of res) if (err) throw err;
  }

  async get(userId: string): Promise<UserVector | null> {
    const b = await this.redis.getBuffer(this.keys.userVector(userId));
    return b ? decodeUserVector(b) : null;
  }

  async deleteMany(userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    // One DEL per key: the keys live in different cluster slots.
    const res = await pipelinePerKey(this.redis, userIds.map((u) => this.keys.userVector(u)), (pipe, key) => pipe.del(key));
    for (const [err] of res) if (err) throw err;
  }
}

export class MemoryUserVectorStore implements UserVectorStore {
  readonly data = new Map<string, Buffer>();

  async putMany(entries: Array<{ userId: string; vector: UserVector }>): Promise<void> {
    for (const e of entries) this.data.set(e.userId, encodeUserVector(e.vector));
  }

  async get(userId: string): Promise<UserVector | null> {
    const b = this.data.get(userId);
    return b ? decodeUserVector(b) : null;
  }

  async deleteMany(userIds: string[]): Promise<void> {
    for (const u of userIds) this.data.delete(u);
  }
}
