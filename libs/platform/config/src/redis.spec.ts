import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvError, commonEnv, loadEnv } from './env';
import { parseHostPorts, parseRedisClusterUrl, redisTarget } from './redis';

describe(parseHostPorts.name, () => {
  it('reads host:port lists, IPv6 in brackets', () => {
    assert.deepEqual(parseHostPorts('127.0.0.1:17000, redis-1.redis:6379,[::1]:7000'), [
      { host: '127.0.0.1', port: 17_000 },
      { host: 'redis-1.redis', port: 6_379 },
      { host: '::1', port: 7_000 },
    ]);
  });

  it('names the bad entry', () => {
    for (const bad of ['', 'host', 'host:', ':6379', 'host:0', 'host:70000', 'a:1,,b:2', 'redis://h:1']) {
      assert.throws(() => parseHostPorts(bad), /host:port/, bad);
    }
  });
});

describe(parseRedisClusterUrl.name, () => {
  it('reads nodes and percent-encoded credentials', () => {
    assert.deepEqual(parseRedisClusterUrl('redis-cluster://seqrec:p%40ss%3Aword@r1:6379,r2:6379/0'), {
      kind: 'cluster',
      nodes: [{ host: 'r1', port: 6_379 }, { host: 'r2', port: 6_379 }],
      username: 'seqrec',
      password: 'p@ss:word',
    });
    assert.deepEqual(parseRedisClusterUrl('redis-cluster://:secret@r1:6379'), { kind: 'cluster', nodes: [{ host: 'r1', port: 6_379 }], password: 'secret' });
    assert.deepEqual(parseRedisClusterUrl('redis-cluster://r1:6379/'), { kind: 'cluster', nodes: [{ host: 'r1', port: 6_379 }] });
  });

  it('refuses databases other than 0, options and other schemes', () => {
    assert.throws(() => parseRedisClusterUrl('redis-cluster://r1:6379/1'), /database 0/);
    assert.throws(() => parseRedisClusterUrl('redis-cluster://r1:6379?tls=true'), /database 0 only and takes no options/);
    assert.throws(() => parseRedisClusterUrl('redis://r1:6379'), /redis-cluster:\/\//);
  });
});

describe(redisTarget.name, () => {
  it('selects the single server, the cluster (URL or node list) or nothing', () => {
    assert.deepEqual(redisTarget({ REDIS_URL: 'redis://h:6379/2', REDIS_CLUSTER_NODES: '' }), { kind: 'single', url: 'redis://h:6379/2' });
    assert.deepEqual(redisTarget({ REDIS_URL: 'redis-cluster://h:1,h:2', REDIS_CLUSTER_NODES: '' }), {
      kind: 'cluster',
      nodes: [{ host: 'h', port: 1 }, { host: 'h', port: 2 }],
    });
    assert.deepEqual(redisTarget({ REDIS_URL: '', REDIS_CLUSTER_NODES: 'h:1,h:2,h:3' })?.kind, 'cluster');
    assert.equal(redisTarget({ REDIS_URL: '', REDIS_CLUSTER_NODES: '' }), null);
  });

  it('is validated with the other variables: bad lists and both variables set are listed at once', () => {
    assert.equal(loadEnv(commonEnv, { REDIS_CLUSTER_NODES: ' 10.0.0.1:7000 ,10.0.0.2:7000' }).REDIS_CLUSTER_NODES, '10.0.0.1:7000,10.0.0.2:7000');
    assert.throws(
      () => loadEnv(commonEnv, { REDIS_URL: 'redis-cluster://h', KAFKA_TOPIC_PARTITIONS: 'many' }),
      (err: unknown) => err instanceof EnvError && /host:port/.test(err.problems.REDIS_URL ?? '') && 'KAFKA_TOPIC_PARTITIONS' in err.problems,
    );
    assert.throws(
      () => loadEnv(commonEnv, { REDIS_URL: 'redis://h:6379', REDIS_CLUSTER_NODES: 'h:1' }),
      (err: unknown) => err instanceof EnvError && /not both/.test(err.problems.REDIS_CLUSTER_NODES ?? ''),
    );
    assert.throws(() => loadEnv(commonEnv, { REDIS_CLUSTER_NODES: 'h' }), (err: unknown) => err instanceof EnvError && 'REDIS_CLUSTER_NODES' in err.problems);
  });
});
