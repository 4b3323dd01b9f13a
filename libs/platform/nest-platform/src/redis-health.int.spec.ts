/**
 * RedisHealth against a real redis-server of this test's own (never the shared one): SIGSTOP makes
 * it hang with its connections open, which ioredis alone still reports as `ready`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRedisClient, type RedisClient } from '@seqrec/redis';
import { startPrivateRedis, type PrivateRedis } from '@seqrec/testing';
import { RedisHealth } from './redis-health';

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

describe(RedisHealth.name, () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let sut: RedisHealth;
  const changes: Array<[boolean, string]> = [];

  before(async () => {
    server = await startPrivateRedis();
    redis = createRedisClient({ target: { kind: 'single', url: server.url }, connectionName: 'seqrec-redis-health-test', extra: { commandTimeout: 800 } });
    await redis.connect();
    sut = new RedisHealth(redis, { intervalMs: 100, timeoutMs: 300, onChange: (h, why) => void changes.push([h, why]) });
    sut.start();
  });

  after(async () => {
    sut.stop();
    server.resume();
    redis.disconnect();
    await server.stop();
  });

  it('is healthy while Redis answers', async () => {
    await until('healthy', () => sut.healthy, 2_000);
    assert.equal(redis.status, 'ready');
  });

  it('turns unhealthy within its deadline when Redis hangs, while the connection still says ready; commands fail by commandTimeout', async () => {
    server.pause();
    const t0 = Date.now();
    const tookMs = await until('unhealthy', () => !sut.healthy, 2_000);
    assert.ok(tookMs <= 100 + 300 + 200, `noticed after ${tookMs} ms`);
    assert.equal(redis.status, 'ready', 'ioredis alone does not notice');
    const off = new RedisHealth(redis, { intervalMs: 0, timeoutMs: 0 });
    off.start();
    assert.equal(off.healthy, true, 'REDIS_PING_INTERVAL_MS=0: the connection status only, which a hung Redis does not change');
    off.stop();
    await assert.rejects(redis.get('k'), /Command timed out/);
    assert.ok(Date.now() - t0 < 2_500);
    assert.ok(changes.some(([h, why]) => !h && /PING unanswered for \d+ ms \(REDIS_PING_TIMEOUT_MS 300\)|PING failed: Command timed out/.test(why)), JSON.stringify(changes));
  });

  it('is healthy again once Redis answers', async () => {
    server.resume();
    await until('healthy again', () => sut.healthy, 3_000);
    assert.equal(await redis.set('k', 'v'), 'OK');
    assert.deepEqual(changes.at(-1)?.[0], true);
  });

  it('is unhealthy while the server is gone', async () => {
    await server.stop();
    await until('unhealthy', () => !sut.healthy, 3_000);
  });
});
