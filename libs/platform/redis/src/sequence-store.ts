import type { RedisKeys } from '@seqrec/contracts';
import type { SequenceStore, WindowWrite, WriteOutcome } from '@seqrec/window';
import { pipelinePerKey, type RedisClient } from './cluster';
import { getBuffers } from './get-buffers';
import { ScriptCode } from './scripts';

export interface RedisSequenceStoreOptions {
  /** Expire a user's window after this long without updates (ms); 0 keeps it forever. */
  ttlMs: number;
}

/** {@link SequenceStore} on Redis: one string per user, conditional writes in `writeWindow-1.lua`. */
export class RedisSequenceStore implements SequenceStore {
  constructor(
    private readonly redis: RedisClient,
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
    const keys = writes.map((w) => this.keys.userSequence(w.userId));
    const res = await pipelinePerKey(this.redis, keys, (pipe, key, i) =>
      writes[i]!.replace
        ? pipe.writeWindow(key, writes[i]!.expected ?? '', writes[i]!.next, this.options.ttlMs, '1')
        : pipe.writeWindow(key, writes[i]!.expected ?? '', writes[i]!.next, this.options.ttlMs),
    );
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
