import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisKeys } from '@seqrec/contracts';
import { createRedis } from '../connection';

/** Helpers for tests against a real Redis (started by `scripts/infra.sh`, passed as REDIS_URL). */
export function redisUrlFromEnv(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set: run integration tests through `npm test` (it starts Kafka and Redis)');
  return url;
}

/** A connection and a fresh key namespace for one test; `cleanup()` deletes the namespace and disconnects. */
export async function testRedis(): Promise<{ redis: Redis; keys: RedisKeys; cleanup: () => Promise<void> }> {
  const redis = createRedis({ url: redisUrlFromEnv(), connectionName: 'seqrec-test' });
  await redis.connect();
  const keys = new RedisKeys(`test-${randomUUID()}`);
  return {
    redis,
    keys,
    cleanup: async () => {
      await deleteNamespace(redis, keys);
      await redis.quit();
    },
  };
}

export async function deleteNamespace(redis: Redis, keys: RedisKeys): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.all(), 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.unlink(...found);
  } while (cursor !== '0');
}
