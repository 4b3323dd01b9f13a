import { Redis, type RedisOptions } from 'ioredis';
import { loadScripts } from './scripts';

export interface RedisConnectionOptions {
  url: string;
  /** Name shown by CLIENT LIST. */
  connectionName: string;
  /** Fail commands instead of queueing them while disconnected (services want fast failure). */
  failFast?: boolean;
  extra?: RedisOptions;
}

/** Opens an ioredis connection with seqrec's scripts defined and sane reconnect/back-off settings. */
export function createRedis(options: RedisConnectionOptions): Redis {
  const redis = new Redis(options.url, {
    connectionName: options.connectionName,
    lazyConnect: true,
    enableAutoPipelining: true,
    maxRetriesPerRequest: options.failFast ? 1 : 20,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
    ...options.extra,
  });
  return loadScripts(redis);
}
