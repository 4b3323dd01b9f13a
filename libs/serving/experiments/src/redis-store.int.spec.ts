import { after, describe } from 'node:test';
import { redisTestTargets, testRedis } from '@seqrec/redis/testing';
import { RedisExperimentStore } from './redis-store';
import { experimentStoreContract } from './store-contract';

// The same contract as the in-memory store, on a single server and on the 3-master cluster of scripts/infra.sh.
for (const { name, target } of redisTestTargets()) {
  describe(`RedisExperimentStore on ${name === 'cluster' ? 'a 3-master Redis Cluster' : 'a single Redis'}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups) await c();
    });
    experimentStoreContract(async () => {
      const { redis, keys, cleanup } = await testRedis(target);
      cleanups.push(cleanup);
      return new RedisExperimentStore(redis, keys);
    });
  });
}
