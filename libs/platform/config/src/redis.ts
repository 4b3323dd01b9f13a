import { makeValidator } from 'envalid';

/** One server address. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where the live state is: one Redis server (any URL ioredis reads: `redis://`, `rediss://`), or a
 * Redis Cluster reached through some of its nodes (the client discovers the rest).
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: HostPort[]; username?: string; password?: string };

const CLUSTER_SCHEME = 'redis-cluster://';

export function isRedisClusterUrl(url: string): boolean {
  return url.toLowerCase().startsWith(CLUSTER_SCHEME);
}

/** Parses `host:port[,host:port...]` (IPv6 hosts in brackets: `[::1]:7000`); throws naming the bad entry. */
export function parseHostPorts(list: string): HostPort[] {
  const entries = list.split(',').map((e) => e.trim());
  if (entries.length === 0 || entries.every((e) => e === '')) throw new Error('expected host:port[,host:port...], got nothing');
  return entries.map((entry) => {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]\s/@]+):(\d{1,5})$/.exec(entry);
    const port = m ? Number(m[2]) : NaN;
    if (!m || !(port >= 1 && port <= 65_535)) throw new Error(`"${entry}" is not host:port`);
    return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
}

/**
 * Parses `redis-cluster://[user[:password]@]host:port[,host:port...][/0]` (user and password
 * percent-encoded; a cluster has database 0 only).
 */
export function parseRedisClusterUrl(url: string): Extract<RedisTarget, { kind: 'cluster' }> {
  if (!isRedisClusterUrl(url)) throw new Error(`expected ${CLUSTER_SCHEME}host:port[,host:port...]`);
  const rest = url.slice(CLUSTER_SCHEME.length);
  const slash = rest.search(/[/?#]/);
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const tail = slash < 0 ? '' : rest.slice(slash);
  if (tail !== '' && tail !== '/' && tail !== '/0') throw new Error(`a Redis Cluster has database 0 only and takes no options (got "${tail}")`);
  const at = authority.lastIndexOf('@');
  const target: Extract<RedisTarget, { kind: 'cluster' }> = { kind: 'cluster', nodes: parseHostPorts(authority.slice(at + 1)) };
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const username = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
    const password = colon < 0 ? '' : decodeURIComponent(userinfo.slice(colon + 1));
    if (username) target.username = username;
    if (password) target.password = password;
  }
  return target;
}

/**
 * The Redis the environment names: REDIS_URL (a `redis-cluster://` URL selects the Cluster client)
 * or REDIS_CLUSTER_NODES; null when both are empty (in-memory state). Both set is an error (the
 * environment validation reports it, see {@link redisEnvProblems}).
 */
export function redisTarget(env: { REDIS_URL: string; REDIS_CLUSTER_NODES: string }): RedisTarget | null {
  const problem = redisEnvProblems(env).REDIS_CLUSTER_NODES;
  if (problem) throw new Error(`REDIS_CLUSTER_NODES: ${problem}`);
  if (env.REDIS_URL) return isRedisClusterUrl(env.REDIS_URL) ? parseRedisClusterUrl(env.REDIS_URL) : { kind: 'single', url: env.REDIS_URL };
  if (env.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: parseHostPorts(env.REDIS_CLUSTER_NODES) };
  return null;
}

/** Problems between the Redis variables (each one alone is checked by its validator). */
export function redisEnvProblems(env: { REDIS_URL?: string; REDIS_CLUSTER_NODES?: string }): Record<string, string> {
  return env.REDIS_URL?.trim() && env.REDIS_CLUSTER_NODES?.trim()
    ? { REDIS_CLUSTER_NODES: 'set either REDIS_URL or REDIS_CLUSTER_NODES, not both' }
    : {};
}

/** REDIS_URL: any URL for one server; a `redis-cluster://` URL is checked here. */
export const redisUrl = makeValidator<string>((input) => {
  const url = input.trim();
  if (isRedisClusterUrl(url)) parseRedisClusterUrl(url);
  return url;
});

/** REDIS_CLUSTER_NODES: `host:port[,host:port...]`, empty for none. */
export const redisClusterNodes = makeValidator<string>((input) => {
  const list = input.trim();
  return list ? parseHostPorts(list).map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',') : '';
});
