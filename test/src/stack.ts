/**
 * The stack of an end-to-end spec: its own namespace on the shared Kafka and Redis (topics and keys
 * prefixed, so specs never see each other's data), a model store directory, the environment every
 * service gets, the services it started, and one cleanup that stops them and removes all of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisKeys, TOPICS } from '@seqrec/contracts';
import { createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, deleteNamespaceTopics, uniqueName } from '@seqrec/kafka/testing';
import { FsModelStore } from '@seqrec/model-store';
import { createRedis } from '@seqrec/redis';
import type { Redis } from 'ioredis';
import { deleteNamespace, redisUrlFromEnv } from '@seqrec/redis/testing';
import { startService, type RunningService } from '@seqrec/testing';

export type ServiceName = 'ingester' | 'sequence-builder' | 'embedding' | 'scorer' | 'trainer';

export class E2eStack {
  readonly ns: string;
  readonly brokers = brokersFromEnv();
  readonly keys: RedisKeys;
  /** The model store's directory (MODEL_STORE_DIR) and the store on it. */
  readonly dir: string;
  readonly store: FsModelStore;
  /** What every service of the stack gets: its Kafka and Redis namespace, the model store, LOG_LEVEL warn, and `env`. */
  readonly env: Record<string, string>;
  /** The services running, stopped by close(). */
  readonly services: RunningService[] = [];
  private redisClient: Redis | null = null;

  /** @param name the namespace's prefix (a unique suffix is added) */
  constructor(name: string, env: Record<string, string> = {}) {
    this.ns = uniqueName(name);
    this.keys = new RedisKeys(this.ns);
    this.dir = mkdtempSync(join(tmpdir(), `${name}-e2e-`));
    this.store = new FsModelStore(this.dir);
    this.env = {
      KAFKA_BROKERS: this.brokers.join(','),
      KAFKA_NAMESPACE: this.ns,
      REDIS_URL: redisUrlFromEnv(),
      REDIS_PREFIX: this.ns,
      MODEL_STORE_DIR: this.dir,
      LOG_LEVEL: 'warn',
      ...env,
    };
  }

  /** A seqrec topic's name in this namespace. */
  topic(t: string): string {
    return `${this.ns}.${t}`;
  }

  /** Every seqrec topic, with this many partitions (otherwise the first service creates them with its defaults). */
  async createTopics(partitions: number): Promise<void> {
    await createTopicsAndWait(this.brokers, Object.values(TOPICS).map((t) => ({ topic: this.topic(t), numPartitions: partitions, replicationFactor: 1 })));
  }

  /** A Redis connection of the spec's own (closed by close()). */
  async redis(): Promise<Redis> {
    if (!this.redisClient) {
      const redis = createRedis({ url: redisUrlFromEnv(), connectionName: 'seqrec-e2e' });
      await redis.connect();
      this.redisClient = redis;
    }
    return this.redisClient;
  }

  /** Starts a service of the stack with the stack's environment and `env` over it. */
  async start(app: ServiceName, env: Record<string, string> = {}, readyTimeoutMs = 60_000): Promise<RunningService> {
    const service = await startService(app, { ...this.env, ...env }, readyTimeoutMs);
    this.services.push(service);
    return service;
  }

  /** Starts several at once, in the order given. */
  startAll(apps: Array<ServiceName | [ServiceName, Record<string, string>]>): Promise<RunningService[]> {
    return Promise.all(apps.map((a) => (typeof a === 'string' ? this.start(a) : this.start(a[0], a[1]))));
  }

  /** SIGKILL, as a lost node would: the service is gone (and no longer stopped by close()). */
  async kill(service: RunningService): Promise<void> {
    service.proc.kill('SIGKILL');
    await service.stop();
    this.services.splice(this.services.indexOf(service), 1);
  }

  /** Stops every service, then removes the namespace's topics and keys and the model store. */
  async close(): Promise<void> {
    await Promise.all(this.services.splice(0).map((s) => s.stop()));
    await deleteNamespaceTopics(this.brokers, this.ns);
    const redis = await this.redis();
    await deleteNamespace(redis, this.keys);
    await redis.quit();
    this.redisClient = null;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
