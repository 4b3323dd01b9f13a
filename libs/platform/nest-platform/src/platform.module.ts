import { Global, Inject, Logger, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { MemoryBus, type Bus, type ConsumedReport, type TransactionReport } from '@seqrec/bus';
import { EnvError, redisTarget } from '@seqrec/config';
import { RedisKeys } from '@seqrec/contracts';
import { KafkaBus, defaultInstanceId, type KafkaCompression } from '@seqrec/kafka';
import { BATCH_BUCKETS, counter, createRegistry, gauge, histogram, LATENCY_BUCKETS, serveWorkerMetrics, type Registry } from '@seqrec/metrics';
import { RedisCatalogueStore, RedisEventClaims, RedisItemDictionary, RedisSequenceStore, RedisTrendingStore, createRedisClient, type RedisClient } from '@seqrec/redis';
import { MemoryCatalogueStore, MemoryEventClaims, MemoryItemDictionary, MemorySequenceStore, MemoryTrendingStore } from '@seqrec/window';
import { HealthController } from './health.controller';
import {
  BUS,
  ENV,
  CATALOGUE_STORE,
  EVENT_CLAIMS,
  ITEM_DICTIONARY,
  METRICS_REGISTRY,
  PSEUDONYMIZER,
  REDIS,
  REDIS_KEYS,
  SEQUENCE_STORE,
  SERVICE_NAME,
  TRENDING_STORE,
} from './platform.constants';
import type { PlatformEnv } from './platform.env';
import { MIN_HMAC_KEY_LENGTH, Pseudonymizer } from './pseudonymizer';
import { ReadinessService } from './readiness.service';
import { RedisHealth } from './redis-health';

export interface PlatformOptions {
  service: string;
  env: PlatformEnv;
}

/** Problems of the privacy variables (docs/privacy.md), by variable; {} when none. */
export function privacyProblems(env: PlatformEnv): Record<string, string> {
  const out: Record<string, string> = {};
  if (env.PRIVACY_PSEUDONYMIZE && env.PRIVACY_HMAC_KEY.length < MIN_HMAC_KEY_LENGTH) {
    out['PRIVACY_HMAC_KEY'] = `PRIVACY_PSEUDONYMIZE is on: the key has ${env.PRIVACY_HMAC_KEY.length} characters, at least ${MIN_HMAC_KEY_LENGTH} are needed`;
  }
  const max = env.PRIVACY_MAX_RETENTION_HOURS;
  if (env.KAFKA_BROKERS && max >= 0 && (env.KAFKA_RETENTION_HOURS < 0 || env.KAFKA_RETENTION_HOURS > max)) {
    out['KAFKA_RETENTION_HOURS'] = `${env.KAFKA_RETENTION_HOURS} keeps personal data longer than PRIVACY_MAX_RETENTION_HOURS (${max}): the events of a deleted user would outlive the documented exposure window`;
  }
  const retention = env.KAFKA_RETENTION_HOURS;
  if (env.KAFKA_BROKERS && env.PRIVACY_MARKER_TTL_DAYS > 0 && (retention < 0 || env.PRIVACY_MARKER_TTL_DAYS * 24 < retention)) {
    out['PRIVACY_MARKER_TTL_DAYS'] = `${env.PRIVACY_MARKER_TTL_DAYS} days is shorter than the events topic's retention (KAFKA_RETENTION_HOURS ${retention}): an event stamped before a deletion could recreate the window after the marker expired`;
  }
  return out;
}

/**
 * Everything a seqrec service stands on, chosen from the environment: the bus (Kafka, or in-memory
 * when KAFKA_BROKERS is empty), the state stores (Redis or a Redis Cluster; in-memory when REDIS_URL
 * and REDIS_CLUSTER_NODES are empty), the metrics registry, and the health endpoints whose readiness
 * follows those connections.
 */
@Global()
@Module({})
export class PlatformModule implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly log = new Logger('Platform');
  private redisHealth: RedisHealth | null = null;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: RedisClient | null,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(ENV) private readonly env: PlatformEnv,
    private readonly readiness: ReadinessService,
  ) {}

  static forRoot(options: PlatformOptions): DynamicModule {
    const { env, service } = options;
    const embedded = !env.KAFKA_BROKERS;
    const keys = new RedisKeys(env.REDIS_PREFIX);
    const privacy = privacyProblems(env);
    if (Object.keys(privacy).length > 0) throw new EnvError(privacy);
    const pseudonymizer = new Pseudonymizer(env.PRIVACY_PSEUDONYMIZE ? env.PRIVACY_HMAC_KEY : null);
    const markerTtlMs = env.PRIVACY_MARKER_TTL_DAYS * 86_400_000;
    return {
      module: PlatformModule,
      controllers: [HealthController],
      providers: [
        ReadinessService,
        { provide: ENV, useValue: env },
        { provide: SERVICE_NAME, useValue: service },
        {
          provide: METRICS_REGISTRY,
          useFactory: () => {
            const registry = createRegistry(service);
            serveWorkerMetrics(registry); // a cluster worker answers the primary's collections
            return registry;
          },
        },
        { provide: REDIS_KEYS, useValue: keys },
        { provide: PSEUDONYMIZER, useValue: pseudonymizer },
        {
          provide: BUS,
          inject: [METRICS_REGISTRY],
          useFactory: (registry: Registry): Bus => {
            const lag = gauge(registry, {
              name: 'seqrec_kafka_consumer_lag_messages',
              help: 'Messages between the end of a partition and what the consumer group has committed, read from the broker every 15 s (in-memory bus: after each batch)',
              labelNames: ['group', 'topic', 'partition'],
            });
            const committed = gauge(registry, {
              name: 'seqrec_kafka_consumer_committed_offset',
              help: 'The consumer group\'s committed offset per partition, read from the broker every 15 s (-1: none yet); flat while the lag is not zero: a stuck consumer',
              labelNames: ['group', 'topic', 'partition'],
            });
            const onConsumed = (r: ConsumedReport) => {
              const labels = { group: r.groupId, topic: r.topic, partition: String(r.partition) };
              lag.set(labels, r.lag);
              if (r.committed !== undefined) committed.set(labels, r.committed);
            };
            const txSeconds = histogram(registry, {
              name: 'seqrec_kafka_transaction_seconds',
              help: 'Kafka transactions of transactional consumers by phase: queued (the input partition\'s producer connecting, the first time), produce, offsets, commit, total',
              labelNames: ['group', 'phase'],
              buckets: LATENCY_BUCKETS,
            });
            const txMessages = histogram(registry, {
              name: 'seqrec_kafka_transaction_messages',
              help: 'Messages published per Kafka transaction (one consumed batch of one input partition each)',
              labelNames: ['group'],
              buckets: BATCH_BUCKETS,
            });
            const requests = counter(registry, {
              name: 'seqrec_kafka_requests_total',
              help: 'Requests this process sent to Kafka, by API (Fetch, Produce, the transaction APIs, FindCoordinator, ...), from librdkafka statistics every 5 s',
              labelNames: ['api'],
            });
            const onRequest = (api: string, count: number) => requests.inc({ api }, count);
            const onTransaction = (r: TransactionReport) => {
              const group = r.groupId;
              txSeconds.observe({ group, phase: 'queued' }, r.queuedSeconds);
              txSeconds.observe({ group, phase: 'produce' }, r.produceSeconds);
              txSeconds.observe({ group, phase: 'offsets' }, r.offsetsSeconds);
              txSeconds.observe({ group, phase: 'commit' }, r.commitSeconds);
              txSeconds.observe({ group, phase: 'total' }, r.produceSeconds + r.offsetsSeconds + r.commitSeconds);
              txMessages.observe({ group }, r.messages);
            };
            if (embedded) return new MemoryBus({ defaultPartitions: env.KAFKA_TOPIC_PARTITIONS, onConsumed });
            const mechanism = env.KAFKA_SASL_MECHANISM;
            return new KafkaBus({
              brokers: env.KAFKA_BROKERS.split(',').map((b) => b.trim()),
              clientId: `${env.KAFKA_CLIENT_ID}-${service}`,
              ssl: env.KAFKA_SSL,
              ...(env.KAFKA_DEBUG ? { debug: env.KAFKA_DEBUG } : {}),
              ...(env.KAFKA_NAMESPACE ? { namespace: env.KAFKA_NAMESPACE } : {}),
              ...(mechanism
                ? { sasl: { mechanism: mechanism as 'plain' | 'scram-sha-256' | 'scram-sha-512', username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD } }
                : {}),
              compression: env.KAFKA_COMPRESSION as KafkaCompression,
              instanceId: env.INSTANCE_ID || defaultInstanceId(),
              consumer: {
                sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
                fetchMaxWaitMs: env.KAFKA_FETCH_MAX_WAIT_MS,
                staticMembership: env.KAFKA_STATIC_MEMBERSHIP,
                stalledMs: env.KAFKA_STALLED_CONSUMER_MS,
              },
              lagIntervalMs: env.KAFKA_LAG_INTERVAL_MS,
              durability: {
                replicationFactor: env.KAFKA_REPLICATION_FACTOR,
                minInsyncReplicas: env.KAFKA_MIN_INSYNC_REPLICAS,
                retentionMs: env.KAFKA_RETENTION_HOURS < 0 ? -1 : env.KAFKA_RETENTION_HOURS * 3_600_000,
                maxMessageBytes: env.KAFKA_MAX_MESSAGE_BYTES,
              },
              logger: new Logger('Kafka') as unknown as Pick<Console, 'info' | 'warn' | 'error'>,
              onConsumed,
              onTransaction,
              onRequest,
            });
          },
        },
        {
          provide: REDIS,
          useFactory: (): RedisClient | null => {
            const target = redisTarget(env);
            return target
              ? createRedisClient({
                  target,
                  connectionName: `seqrec-${service}`,
                  extra: {
                    // a hung Redis fails commands instead of holding every request that waits on one
                    ...(env.REDIS_COMMAND_TIMEOUT_MS > 0 ? { commandTimeout: env.REDIS_COMMAND_TIMEOUT_MS } : {}),
                    // The scorer sends one or two GETs per request, each in its own tick: auto-pipelining
                    // would wrap every one in a Pipeline object (with copies of the command methods)
                    // that outlives the young generation, i.e. pure GC work on the latency path. Its
                    // batch routes pipeline explicitly.
                    ...(service === 'scorer' ? { enableAutoPipelining: false } : {}),
                  },
                })
              : null;
          },
        },
        {
          provide: SEQUENCE_STORE,
          inject: [REDIS],
          useFactory: (redis: RedisClient | null) =>
            redis
              ? new RedisSequenceStore(redis, keys, { ttlMs: env.SEQUENCE_TTL_DAYS * 86_400_000, sessionTtlMs: env.SESSION_WINDOW_TTL_HOURS * 3_600_000, markerTtlMs })
              : new MemorySequenceStore(markerTtlMs),
        },
        {
          provide: ITEM_DICTIONARY,
          inject: [REDIS],
          useFactory: (redis: RedisClient | null) => (redis ? new RedisItemDictionary(redis, keys) : new MemoryItemDictionary()),
        },
        {
          provide: TRENDING_STORE,
          inject: [REDIS],
          useFactory: (redis: RedisClient | null) => {
            const halfLifeMs = env.TRENDING_HALF_LIFE_MINUTES * 60_000;
            return redis ? new RedisTrendingStore(redis, keys, { halfLifeMs }) : new MemoryTrendingStore(halfLifeMs);
          },
        },
        {
          provide: EVENT_CLAIMS,
          inject: [REDIS],
          useFactory: (redis: RedisClient | null) => (redis ? new RedisEventClaims(redis, keys) : new MemoryEventClaims()),
        },
        {
          provide: CATALOGUE_STORE,
          inject: [REDIS],
          useFactory: (redis: RedisClient | null) => (redis ? new RedisCatalogueStore(redis, keys) : new MemoryCatalogueStore()),
        },
      ],
      exports: [
        ReadinessService,
        ENV,
        SERVICE_NAME,
        METRICS_REGISTRY,
        REDIS_KEYS,
        PSEUDONYMIZER,
        BUS,
        REDIS,
        SEQUENCE_STORE,
        ITEM_DICTIONARY,
        EVENT_CLAIMS,
        TRENDING_STORE,
        CATALOGUE_STORE,
      ],
    };
  }

  async onModuleInit(): Promise<void> {
    this.readiness.register('bus', () => this.bus.isReady());
    if (this.redis) {
      const redis = this.redis;
      // ready = connected AND answering: a PING with a deadline notices a Redis that hangs
      const health = new RedisHealth(redis, {
        intervalMs: this.env.REDIS_PING_INTERVAL_MS,
        timeoutMs: this.env.REDIS_PING_TIMEOUT_MS,
        onChange: (healthy, why) => (healthy ? this.log.log(`Redis answers again (${why})`) : this.log.error(`Redis not healthy: ${why}`)),
      });
      this.redisHealth = health;
      health.start();
      this.readiness.register('redis', () => health.healthy);
      // a provider's first command may have started the connection already
      if (redis.status === 'wait') redis.connect().catch((err: Error) => this.log.error(`Redis connection failed: ${err.message}`));
    } else {
      this.log.warn('REDIS_URL and REDIS_CLUSTER_NODES are empty: sequence state is in memory (embedded mode), lost on restart');
    }
    if (this.bus instanceof KafkaBus) {
      this.bus.connect().catch((err: Error) => this.log.error(err.message));
    } else {
      this.log.warn('KAFKA_BROKERS is empty: in-memory bus (embedded mode)');
    }
    gauge(this.registry, {
      name: 'seqrec_platform_info',
      help: 'Constant 1, labelled with how this process is wired',
      labelNames: ['bus', 'state'],
    }).set({ bus: this.bus instanceof KafkaBus ? 'kafka' : 'memory', state: this.redis ? 'redis' : 'memory' }, 1);
  }

  beforeApplicationShutdown(): void {
    this.readiness.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    this.redisHealth?.stop();
    await this.bus.close().catch((err: Error) => this.log.error(`closing the bus: ${err.message}`));
    if (this.redis && this.redis.status !== 'end') await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}
