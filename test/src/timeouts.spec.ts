/**
 * Timeouts and caps of the running services (each its own process, real Kafka and Redis): a
 * slow-loris body or header is cut off with 408 while other clients are served, an idle keep-alive
 * connection is closed, connections beyond HTTP_MAX_CONNECTIONS are dropped, and a Redis that hangs
 * (a redis-server of this test's own, SIGSTOPped; never the shared one) turns readiness red within
 * seconds while requests fail fast instead of waiting on it; readiness is green again once it answers.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TOPICS } from '@seqrec/contracts';
import { createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, uniqueName } from '@seqrec/kafka/testing';
import { redisUrlFromEnv } from '@seqrec/redis/testing';
import { startPrivateRedis, startService, type PrivateRedis, type RunningService } from '@seqrec/testing';
import { dropNamespaces } from './ingest-helpers';

interface RawOutcome {
  /** What the server sent before it closed (status line first), '' for nothing. */
  received: string;
  /** ms from connect to close */
  closedAfterMs: number;
}

/** Opens a TCP connection, writes `head`, then `drip` one byte every `everyMs` until the server closes it (or `maxMs`). */
function slowRequest(port: number, head: string, drip: string, everyMs: number, maxMs: number): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let received = '';
    let i = 0;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      const timer = setInterval(() => {
        if (socket.destroyed || socket.writableEnded) return clearInterval(timer);
        socket.write(drip[i++ % drip.length]!);
      }, everyMs);
      socket.once('close', () => clearInterval(timer));
    });
    socket.on('data', (d) => (received += d.toString()));
    socket.on('error', () => undefined); // a reset after the 408 is a close like any other
    socket.once('close', () => resolve({ received, closedAfterMs: Date.now() - t0 }));
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the slow request open for ${maxMs} ms (received: ${JSON.stringify(received)})`));
    }, maxMs).unref();
  });
}

/** A keep-alive connection that sent one GET: resolves with the socket once the answer came, or null if the server closed it first. */
function openAnswered(port: number, path: string): Promise<{ socket: Socket; status: number; closed: Promise<number> } | null> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`));
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - t0)));
    socket.on('error', () => undefined);
    socket.once('data', (d) => resolve({ socket, status: Number(/^HTTP\/1\.1 (\d+)/.exec(d.toString())?.[1] ?? 0), closed }));
    socket.once('close', () => resolve(null));
  });
}

const timed = async <T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t0 = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t0 };
};

describe('timeouts: slow clients are cut off, connections capped, a hung Redis turns readiness red', () => {
  const ns = uniqueName('timeouts');
  const brokers = brokersFromEnv();
  const base = { KAFKA_BROKERS: brokers.join(','), KAFKA_NAMESPACE: ns, REDIS_URL: redisUrlFromEnv(), REDIS_PREFIX: ns, LOG_LEVEL: 'warn', INGEST_EXACTLY_ONCE: 'false' };
  const running: RunningService[] = [];
  let privateRedis: PrivateRedis | undefined;

  before(async () => {
    await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: `${ns}.${t}`, numPartitions: 2, replicationFactor: 1 })));
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await privateRedis?.stop();
    await dropNamespaces(brokers, [ns]);
  });

  describe('HTTP server limits (ingester)', () => {
    let ingester: RunningService;
    before(async () => {
      ingester = await startService('ingester', {
        ...base,
        HTTP_HEADERS_TIMEOUT_MS: '1000',
        HTTP_REQUEST_TIMEOUT_MS: '2000',
        HTTP_KEEP_ALIVE_TIMEOUT_MS: '1500',
        HTTP_MAX_CONNECTIONS: '5',
      });
      running.push(ingester);
    });

    it('a slow-loris body is answered 408 and closed at HTTP_REQUEST_TIMEOUT_MS, while other requests are served', async () => {
      const head = `POST /v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
      const slow = slowRequest(ingester.port, head, '[{"eventId":"x"', 100, 10_000);
      // meanwhile a normal request is served at once
      await new Promise((r) => setTimeout(r, 300));
      const ok = await timed(() => fetch(`${ingester.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify([{ eventId: `${ns}-ok`, userId: 'u', type: 'view', itemId: 'i', ts: Date.now() }]) }));
      assert.equal(ok.value.status, 200);
      assert.ok(ok.ms < 1_000, `served in ${ok.ms} ms`);
      const { received, closedAfterMs } = await slow;
      assert.match(received, /^HTTP\/1\.1 408 /, `answered: ${JSON.stringify(received)}`);
      assert.ok(closedAfterMs >= 1_900 && closedAfterMs <= 3_500, `closed after ${closedAfterMs} ms (HTTP_REQUEST_TIMEOUT_MS 2000)`);
    });

    it('slow headers are answered 408 and closed at HTTP_HEADERS_TIMEOUT_MS', async () => {
      const { received, closedAfterMs } = await slowRequest(ingester.port, 'POST /v1/events HTTP/1.1\r\nHost: t\r\n', 'X-Slow: aaaaaaaa', 100, 10_000);
      assert.match(received, /^HTTP\/1\.1 408 /, `answered: ${JSON.stringify(received)}`);
      assert.ok(closedAfterMs >= 900 && closedAfterMs <= 2_500, `closed after ${closedAfterMs} ms (HTTP_HEADERS_TIMEOUT_MS 1000)`);
    });

    it('an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
      const conn = await openAnswered(ingester.port, '/health/live');
      assert.ok(conn, 'answered');
      assert.equal(conn.status, 200);
      const closedAfter = await conn.closed;
      assert.ok(closedAfter >= 1_400 && closedAfter <= 3_500, `closed after ${closedAfter} ms (HTTP_KEEP_ALIVE_TIMEOUT_MS 1500)`);
    });

    it('connections beyond HTTP_MAX_CONNECTIONS are dropped; one closing makes room', async () => {
      // the connections left by earlier requests (fetch keeps them alive) end with the keep-alive timeout
      await new Promise((r) => setTimeout(r, 2_000));
      const open: Array<NonNullable<Awaited<ReturnType<typeof openAnswered>>>> = [];
      for (let i = 0; i < 5; i++) {
        const c = await openAnswered(ingester.port, '/health/live');
        assert.ok(c, `connection ${i + 1} of 5 is served`);
        assert.equal(c.status, 200);
        open.push(c);
      }
      assert.equal(await openAnswered(ingester.port, '/health/live'), null, 'the 6th is closed without an answer');
      open.pop()!.socket.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const again = await openAnswered(ingester.port, '/health/live');
      assert.equal(again?.status, 200, 'room again after one closed');
      again!.socket.destroy();
      for (const c of open) c.socket.destroy();
    });
  });

  describe('a hung Redis (SIGSTOP)', () => {
    let builder: RunningService;
    let ingester: RunningService;
    const ready = async (s: RunningService) => {
      const r = await fetch(`${s.url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
      return { status: r.status, body: (await r.json()) as { checks: Record<string, boolean> } };
    };
    const untilReady = async (s: RunningService, want: number, timeoutMs: number) => {
      const t0 = Date.now();
      for (;;) {
        const r = await ready(s);
        if (r.status === want) return { ms: Date.now() - t0, ...r };
        if (Date.now() - t0 > timeoutMs) throw new Error(`${s.name}: readiness not ${want} within ${timeoutMs} ms: ${JSON.stringify(r)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    };

    before(async () => {
      privateRedis = await startPrivateRedis();
      const env = { ...base, REDIS_URL: privateRedis.url, REDIS_COMMAND_TIMEOUT_MS: '2000', REDIS_PING_INTERVAL_MS: '500', REDIS_PING_TIMEOUT_MS: '1500' };
      builder = await startService('sequence-builder', env);
      ingester = await startService('ingester', env);
      running.push(builder, ingester);
    });

    it('readiness turns red within seconds (checks.redis false), liveness stays green, requests fail fast; green again when Redis answers', async (t) => {
      assert.equal((await ready(builder)).status, 200);
      assert.equal((await ready(ingester)).status, 200);
      privateRedis!.pause();
      try {
        for (const s of [builder, ingester]) {
          const red = await untilReady(s, 503, 5_000);
          t.diagnostic(`${s.name}: readiness red ${red.ms} ms after SIGSTOP`);
          assert.equal(red.body.checks['redis'], false, JSON.stringify(red.body));
          assert.equal((await fetch(`${s.url}/health/live`)).status, 200, `${s.name} stays live`);
        }
        const read = await timed(() => fetch(`${builder.url}/v1/users/someone/sequence`, { signal: AbortSignal.timeout(10_000) }));
        t.diagnostic(`builder GET sequence with Redis hung: ${read.value.status} in ${read.ms} ms`);
        assert.ok(read.value.status >= 500, `a failure, not an answer from nowhere: ${read.value.status}`);
        assert.ok(read.ms < 4_000, `failed fast (REDIS_COMMAND_TIMEOUT_MS 2000): ${read.ms} ms`);
        const post = await timed(() =>
          fetch(`${ingester.url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify([{ eventId: `${ns}-hung`, userId: 'u', type: 'view', itemId: 'i', ts: Date.now() }]),
            signal: AbortSignal.timeout(15_000),
          }),
        );
        t.diagnostic(`ingester POST with Redis hung: ${post.value.status} in ${post.ms} ms`);
        // docs/ingest-protocol.md: the events are durable on the raw topic once Kafka acknowledged
        // them; the claim waits at most INGEST_CLAIM_TIMEOUT_MS and the raw consumer de-duplicates
        // them once Redis answers
        assert.equal(post.value.status, 200, 'accepted without waiting on the hung de-duplication store');
        assert.ok(post.ms < 10_000, `answered in ${post.ms} ms`);
      } finally {
        privateRedis!.resume();
      }
      for (const s of [builder, ingester]) {
        const green = await untilReady(s, 200, 10_000);
        t.diagnostic(`${s.name}: ready again ${green.ms} ms after SIGCONT`);
      }
      assert.notEqual((await fetch(`${builder.url}/v1/users/someone/sequence`)).status, 500);
    });
  });
});
