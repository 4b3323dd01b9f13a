/**
 * Producers this project did not write, with every compression codec: kcat (librdkafka's CLI) and
 * Kafka's own Java console producer publish generator events to the raw topic while the ingester
 * and sequence-builder run as processes. Every event must land on the events topic exactly once
 * and in its user's window, whatever codec its batch was compressed with.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisKeys, TOPICS, type EventV1 } from '@seqrec/contracts';
import { ClickstreamGenerator } from '@seqrec/generator';
import { createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, deleteNamespaceTopics, readTopic, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { RedisItemDictionary, RedisSequenceStore, createRedis } from '@seqrec/redis';
import { deleteNamespace, redisUrlFromEnv } from '@seqrec/redis/testing';
import { countWindowDiffs, expectedWindows, startService, type RunningService } from '@seqrec/testing';
import type { Redis } from 'ioredis';

const WINDOW = 50;
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const CLIENTS_SCRIPT = join(__dirname, '..', '..', 'scripts', 'kafka-clients.sh');

/** Runs a producer process with `lines` on its stdin; rejects with its stderr when it fails. */
function produce(cmd: string, args: string[], lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += String(d)));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2_000)}`))));
    p.stdin.end(lines.join('\n') + '\n');
  });
}

describe('producers this project did not write, every codec', () => {
  const ns = uniqueName('codecs');
  const keys = new RedisKeys(ns);
  const brokers = brokersFromEnv();
  const raw = `${ns}.${TOPICS.CLICKSTREAM_RAW}`;
  const env = { KAFKA_BROKERS: brokers.join(','), KAFKA_NAMESPACE: ns, REDIS_URL: redisUrlFromEnv(), REDIS_PREFIX: ns, LOG_LEVEL: 'warn' };
  const running: RunningService[] = [];
  let redis: Redis;

  before(async () => {
    await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: `${ns}.${t}`, numPartitions: 3, replicationFactor: 1 })));
    redis = createRedis({ url: redisUrlFromEnv(), connectionName: 'seqrec-e2e' });
    await redis.connect();
    running.push(await startService('ingester', env), await startService('sequence-builder', env));
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await deleteNamespaceTopics(brokers, ns);
    if (redis) {
      await deleteNamespace(redis, keys);
      await redis.quit();
    }
  });

  it('lands every event once, from kcat and the Java console producer, in none, gzip, snappy, lz4 and zstd', async () => {
    const gen = new ClickstreamGenerator({ seed: 23, users: 300, items: 1_000, duplicateRate: 0, startTime: Date.now() - 86_400_000 });
    const events: EventV1[] = [];
    for (const r of gen.takeRecords(12_000)) {
      if (r.kind === 'event') events.push({ ...r.event, ts: typeof r.event.ts === 'number' ? r.event.ts : Date.parse(r.event.ts) });
    }
    const variants = [
      ...CODECS.map((codec) => ({ name: `kcat ${codec}`, cmd: 'kcat', args: ['-P', '-b', brokers.join(','), '-t', raw, '-K', '\t', '-z', codec, '-X', 'linger.ms=20'] })),
      ...CODECS.map((codec) => ({
        name: `java console producer ${codec}`,
        cmd: 'bash',
        args: [
          CLIENTS_SCRIPT, 'console-producer', '--bootstrap-server', brokers.join(','), '--topic', raw, '--compression-codec', codec,
          '--property', 'parse.key=true', '--property', 'key.separator=\t', '--producer-property', 'linger.ms=20', '--producer-property', 'acks=all',
        ],
      })),
    ];
    const per = Math.floor(events.length / variants.length);
    const sent: EventV1[] = [];
    for (const [i, v] of variants.entries()) {
      const slice = events.slice(i * per, (i + 1) * per);
      await produce(v.cmd, v.args, slice.map((e) => `${e.userId}\t${JSON.stringify(e)}`));
      sent.push(...slice);
    }
    // The same lz4 batch again (a producer's retry): de-duplicated, not applied twice.
    await produce('kcat', ['-P', '-b', brokers.join(','), '-t', raw, '-K', '\t', '-z', 'lz4'], sent.slice(0, 200).map((e) => `${e.userId}\t${JSON.stringify(e)}`));

    const expected = expectedWindows(sent, WINDOW);
    const store = new RedisSequenceStore(redis, keys, { ttlMs: 0 });
    const dict = new RedisItemDictionary(redis, keys);
    const compare = () => countWindowDiffs(store, dict, expected);
    await waitFor('every window to be complete', async () => (await compare()).lost === 0, 90_000).catch(() => undefined);
    assert.deepEqual(await compare(), { lost: 0, extra: 0 }, 'every window holds each of its events once');
    const out = await readTopic(brokers, `${ns}.${TOPICS.EVENTS}`, { count: sent.length + 1, timeoutMs: 5_000 });
    const ids = new Map<string, number>();
    for (const m of out) {
      const id = (JSON.parse(String(m.value)) as EventV1).eventId;
      ids.set(id, (ids.get(id) ?? 0) + 1);
    }
    const missing = sent.filter((e) => !ids.has(e.eventId)).length;
    const twice = [...ids.values()].filter((n) => n > 1).length;
    assert.deepEqual({ missing, twice, total: out.length }, { missing: 0, twice: 0, total: sent.length }, 'each event exactly once on the events topic');
    const dlq = await readTopic(brokers, `${ns}.${TOPICS.EVENTS_DLQ}`, { count: 1, timeoutMs: 2_000 });
    assert.equal(dlq.length, 0, `no dead letters: ${dlq.map((m) => String(m.value)).join('\n').slice(0, 500)}`);
    for (const s of running) assert.equal((await fetch(`${s.url}/health/ready`)).status, 200, `${s.name} still ready`);
  });
});
