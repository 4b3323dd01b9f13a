import type { RedisKeys } from '@seqrec/contracts';
import type { ItemDictionary } from '@seqrec/window';
import type { RedisClient } from './cluster';

const CHUNK = 1_000;

/**
 * {@link ItemDictionary} on Redis (three keys in one hash-tag slot, allocation in
 * `allocItems-3.lua`), with a process-local cache: an index never changes once handed out, so
 * only ids this process has not seen cost a round trip.
 */
export class RedisItemDictionary implements ItemDictionary {
  private readonly byId = new Map<string, number>();
  private readonly byIndex = new Map<number, string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async indicesOf(itemIds: string[]): Promise<number[]> {
    const missing = [...new Set(itemIds.filter((id) => !this.byId.has(id)))];
    for (let i = 0; i < missing.length; i += CHUNK) {
      const chunk = missing.slice(i, i + CHUNK);
      const indices = await this.redis.allocItems(this.keys.itemIndex(), this.keys.itemIds(), this.keys.itemCounter(), ...chunk);
      chunk.forEach((id, k) => this.remember(id, Number(indices[k])));
    }
    return itemIds.map((id) => this.byId.get(id)!);
  }

  async idsOf(indices: number[]): Promise<Array<string | undefined>> {
    const missing = [...new Set(indices.filter((ix) => !this.byIndex.has(ix)))];
    for (let i = 0; i < missing.length; i += CHUNK) {
      const chunk = missing.slice(i, i + CHUNK);
      const ids = await this.redis.hmget(this.keys.itemIds(), ...chunk.map(String));
      chunk.forEach((ix, k) => {
        const id = ids[k];
        if (id != null) this.remember(id, ix);
      });
    }
    return indices.map((ix) => this.byIndex.get(ix));
  }

  private remember(id: string, index: number): void {
    this.byId.set(id, index);
    this.byIndex.set(index, id);
  }
}
