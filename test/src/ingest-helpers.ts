/**
 * Helpers of the ingest protocol tests (ingest-retry, ingest-backpressure, hostile-input,
 * builder-faults): HTTP posts that report network failures as values, event factories, a tally of
 * the events topic, a Kafka broker and a redis-server of a test's own (to stop and start without
 * disturbing anyone on the shared ones).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisKeys } from '@seqrec/contracts';
import { deleteNamespaceTopics, readTopic, type TopicMessage } from '@seqrec/kafka/testing';
import { createRedis } from '@seqrec/redis';
import { deleteNamespace, redisUrlFromEnv } from '@seqrec/redis/testing';
import { LOG_DIR, freePort, pingRedis, startService, type RunningService } from '@seqrec/testing';

const ROOT = join(__dirname, '..', '..');

/**
 * `startService`, tried again on another port when the one it picked was taken meanwhile (other
 * test runs on this machine pick from the same range).
 */
export async function startServiceRetrying(app: string, env: Record<string, string>, attempts = 4): Promise<RunningService> {
  for (let i = 1; ; i++) {
    try {
      return await startService(app, env);
    } catch (err) {
      if (i >= attempts || !/exited with 1 during start-up/.test((err as Error).message)) throw err;
    }
  }
}

/**
 * Deletes what tests left under their namespaces: the topics on `brokers` (none when null: a broker
 * of the test's own, destroyed with it) and the keys in the test run's Redis.
 */
export async function dropNamespaces(brokers: string[] | null, namespaces: string[]): Promise<void> {
  const redis = createRedis({ url: redisUrlFromEnv(), connectionName: 'seqrec-e2e' });
  await redis.connect();
  try {
    for (const ns of namespaces) {
      if (brokers) await deleteNamespaceTopics(brokers, ns);
      await deleteNamespace(redis, new RedisKeys(ns));
    }
  } finally {
    await redis.quit();
  }
}

export interface PostResult {
  /** HTTP status, or 0 when the request failed (connection reset, the client's timeout). */
  status: number;
  body: Record<string, unknown> & { accepted?: number; duplicates?: number; rejected?: number; results?: Array<Record<string, unknown>> };
  retryAfter: string | null;
  ms: number;
  error?: string;
}

/** POSTs to `/v1/events`; never throws (a network failure or the client's timeout is status 0). */
export async function post(url: string, body: unknown, options: { timeoutMs?: number; contentType?: string } = {}): Promise<PostResult> {
  const t0 = performance.now();
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  try {
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': options.contentType ?? 'application/json' },
      body: payload,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: PostResult['body'] = {};
    try {
      parsed = JSON.parse(text) as PostResult['body'];
    } catch {
      parsed = { text };
    }
    return { status: res.status, body: parsed, retryAfter: res.headers.get('retry-after'), ms: performance.now() - t0 };
  } catch (err) {
    return { status: 0, body: {}, retryAfter: null, ms: performance.now() - t0, error: String((err as Error).cause ?? (err as Error).message) };
  }
}

export interface TestEvent {
  eventId: string;
  userId: string;
  type: 'view';
  itemId: string;
  ts: number;
}

/** `n` valid events with ids `<prefix>-<i>`, over 20 users. */
export function makeEvents(prefix: string, n: number, ts = Date.now() - 60_000): TestEvent[] {
  return Array.from({ length: n }, (_, i) => ({ eventId: `${prefix}-${i}`, userId: `${prefix}-user-${i % 20}`, type: 'view' as const, itemId: `item-${i % 37}`, ts: ts + i }));
}

/** How many times each event id is on a topic of events (reads until `expectAtLeast + 1` or the deadline). */
export async function tallyEvents(brokers: string[], topic: string, expectAtLeast: number, timeoutMs = 5_000): Promise<Map<string, number>> {
  const messages = await readTopic(brokers, topic, { count: expectAtLeast + 1, timeoutMs });
  return tally(messages);
}

export function tally(messages: TopicMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) {
    const id = (JSON.parse(String(m.value)) as { eventId: string }).eventId;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/**
 * A Kafka broker of this test's own, through `scripts/infra.sh` with its own ports and run
 * directory (`KAFKA_PORT`, `KAFKA_CONTROLLER_PORT`, `SEQREC_RUN`): stopped and started freely,
 * never the shared one. Data survive `stop()`/`start()`; `destroy()` stops it and deletes them.
 */
export class OwnKafka {
  readonly run = mkdtempSync(join(tmpdir(), 'seqrec-own-kafka-'));
  private constructor(readonly port: number, readonly controllerPort: number) {}

  static async create(): Promise<OwnKafka> {
    const k = new OwnKafka(await freePort(), await freePort());
    k.start();
    return k;
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  private infra(command: 'up' | 'down'): void {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'infra.sh'), command, 'kafka'], {
      env: { ...process.env, KAFKA_PORT: String(this.port), KAFKA_CONTROLLER_PORT: String(this.controllerPort), SEQREC_RUN: this.run, KAFKA_HEAP_OPTS: '-Xmx512m -Xms512m', KAFKA_STOP_TIMEOUT: '30' },
      encoding: 'utf8',
      timeout: 180_000,
    });
    if (r.status !== 0) throw new Error(`infra.sh ${command} kafka (port ${this.port}) failed: ${r.stderr}`);
  }

  /** Starts the broker and waits until it answers (about 5 s). */
  start(): void {
    this.infra('up');
  }

  /** Stops it (SIGTERM, a clean shutdown): every client sees the broker gone. */
  stop(): void {
    this.infra('down');
  }

  destroy(): void {
    try {
      this.stop();
    } finally {
      rmSync(this.run, { recursive: true, force: true });
    }
  }
}

/** A redis-server of this test's own on a fixed port: killed and started again on the same port (no persistence). */
export class OwnRedis {
  private proc: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async create(): Promise<OwnRedis> {
    const r = new OwnRedis(await freePort());
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    mkdirSync(LOG_DIR, { recursive: true });
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', join(LOG_DIR, `own-redis-${this.port}.log`)], { stdio: 'ignore' });
    const until = Date.now() + 10_000;
    while (!(await this.ping())) {
      if (Date.now() > until) throw new Error(`redis-server on ${this.port} did not answer PING`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: connections drop, commands fail or wait for the reconnect. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  private ping(): Promise<boolean> {
    return pingRedis(this.port);
  }

}

/** Resident set size of a process, MiB (Linux). */
export function rssMiB(pid: number): number {
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  return Number(r.stdout.trim()) / 1024;
}

/** One metric's value from an exposition text (the sum of its series matching `filter`). */
export function metricValue(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(filter)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
