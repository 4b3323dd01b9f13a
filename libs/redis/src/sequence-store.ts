import type { Redis } from 'ioredis';
import type { RedisKeys } from '@seqrec/contracts';
import type { SequenceStore, WindowWrite, WriteOutcome } from '@seqrec/sequence';
import { getBuffers } from './get-buffers';
import { ScriptCode } from './scripts';

export interface RedisSequenceStoreOptions {
  /** Expire a user's window after this long without updates (ms); 0 keeps it forever. */
  ttlMs: number;
}

/** {@link SequenceStore} on Redis: one string per user, conditional writes in `writeWindow-1.lua`. */
export class RedisSequenceStore implements SequenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: RedisSequenceStoreOptions,
  ) {}

  async getMany(userIds: string[]): Promise<Array<Buffer | null>> {
    return (await getBuffers(this.redis, userIds.map((u) => this.keys.userSequence(u)))).map(([err, v]) => {
      if (err) throw err;
      return v;
    });
  }

  async writeMany(writes: WindowWrite[]): Promise<WriteOutcome[]> {
    if (writes.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const w of writes) pipe.writeWindow(this.keys.userSequence(w.userId), w.expected ?? '', w.next, this.options.ttlMs);
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, code]) => {
      if (err) throw err;
      if (code === 1) return 'ok';
      if (code === ScriptCode.Conflict) return 'conflict';
      if (code === ScriptCode.Stale) return 'stale';
      throw new Error(`writeWindow returned unexpected ${String(code)}`);
    });
  }

  async memoryUsage(userId: string): Promise<number | null> {
    const n = (await this.redis.call('MEMORY', 'USAGE', this.keys.userSequence(userId), 'SAMPLES', '0')) as number | null;
    return n ?? null;
  }
}
