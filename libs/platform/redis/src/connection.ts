import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { isRedisClusterUrl, type RedisTarget } from '@seqrec/config';
import type { RedisClient } from './cluster';
import { loadScripts } from './scripts';

export interface RedisConnectionOptions {
  url: string;
  /** Name shown by CLIENT LIST. */
  connectionName: string;
  /** Fail commands instead of queueing them while disconnected (services want fast failure). */
  failFast?: boolean;
  extra?: RedisOptions;
}

const backoff = (times: number) => Math.min(50 * 2 ** times, 2_000);

/**
 * Opens an ioredis connection to one server with seqrec's scripts defined and sane
 * reconnect/back-off settings. For a target that may be a Cluster use {@link createRedisClient}.
 */
export function createRedis(options: RedisConnectionOptions): Redis {
  if (isRedisClusterUrl(options.url)) throw new Error('createRedis opens one server; open a redis-cluster:// URL with createRedisClient');
  const redis = new Redis(options.url, {
    connectionName: options.connectionName,
    lazyConnect: true,
    enableAutoPipelining: true,
    maxRetriesPerRequest: options.failFast ? 1 : 20,
    enableOfflineQueue: true,
    retryStrategy: backoff,
    ...options.extra,
  });
  return loadScripts(redis);
}

export interface RedisClientOptions extends Omit<RedisConnectionOptions, 'url'> {
  /** One server or a Cluster (`redisTarget(env)` of `@seqrec/config`). */
  target: RedisTarget;
}

/**
 * Opens the client of `target`: {@link createRedis} for one server, ioredis' `Cluster` for a Redis
 * Cluster (it discovers every node from the ones given, follows MOVED/ASK redirections, and
 * auto-pipelines per node). Same scripts and settings; `extra.enableAutoPipelining` applies to the
 * Cluster client, the rest of `extra` to its connection to each node. Connects lazily (`connect()`).
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const { target } = options;
  if (target.kind === 'single') return createRedis({ ...options, url: target.url });
  const { enableAutoPipelining = true, ...nodeOptions } = options.extra ?? {};
  const cluster = new Cluster(target.nodes, {
    lazyConnect: true,
    enableAutoPipelining,
    enableOfflineQueue: true,
    clusterRetryStrategy: backoff,
    redisOptions: {
      connectionName: options.connectionName,
      maxRetriesPerRequest: options.failFast ? 1 : 20,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...nodeOptions,
    },
  });
  return loadScripts(cluster);
}
