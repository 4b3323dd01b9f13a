import 'reflect-metadata';
import { ConsoleLogger, Logger, type DynamicModule, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ValidatorSpec } from 'envalid';
import { EnvError, commonEnv, loadEnv, port, redisTarget, type CleanedEnv } from '@seqrec/config';
import type { Bus } from '@seqrec/bus';
import { TOPICS } from '@seqrec/contracts';
import { BusServer } from './bus.server';
import { BUS, METRICS_REGISTRY } from './platform.constants';
import { TopicCheckError, checkTopics, type TopicCheckMode } from './topic-check';
import { LATENCY_BUCKETS, counter, histogram, type Registry } from '@seqrec/metrics';

export interface BootstrapOptions<S extends Record<string, ValidatorSpec<unknown>>> {
  service: string;
  /** The app's own variables, validated together with the common ones. */
  env: S;
  /** Builds the root module from the validated environment. */
  module: (env: CleanedEnv<typeof commonEnv & S>) => DynamicModule;
  /** Port used when HTTP_PORT is not set. */
  defaultPort: number;
  /** Largest accepted request body, bytes. */
  bodyLimit?: number;
}

const LEVELS: Record<string, LogLevel[]> = {
  debug: ['debug', 'log', 'warn', 'error', 'fatal'],
  log: ['log', 'warn', 'error', 'fatal'],
  warn: ['warn', 'error', 'fatal'],
  error: ['error', 'fatal'],
};

/**
 * Builds a seqrec service without listening: validates `env` (throws {@link EnvError} naming every
 * bad variable), creates the Nest app with its bus consumers started. Used by
 * {@link bootstrapService} and by tests that drive the app in-process.
 */
export async function createService<S extends Record<string, ValidatorSpec<unknown>>>(
  options: BootstrapOptions<S>,
  rawEnv: NodeJS.ProcessEnv = process.env,
): Promise<{ app: NestFastifyApplication; env: CleanedEnv<typeof commonEnv & S> & { HTTP_PORT: number } }> {
  const env = loadEnv({ ...commonEnv, HTTP_PORT: portSpec(options.defaultPort), ...options.env }, rawEnv) as never as CleanedEnv<
    typeof commonEnv & S
  > & { HTTP_PORT: number };
  const app = await NestFactory.create<NestFastifyApplication>(
    options.module(env),
    new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1024 * 1024, trustProxy: true, maxParamLength: 256 }),
    {
      logger: new ConsoleLogger({
        logLevels: LEVELS[env.LOG_LEVEL] ?? LEVELS.log!,
        json: env.LOG_FORMAT === 'json',
        colors: env.LOG_FORMAT !== 'json' && Boolean(process.stdout.isTTY),
      }),
    },
  );
  instrumentHttp(app);
  const topics = Object.values(TOPICS).map((topic) => ({ topic, partitions: env.KAFKA_TOPIC_PARTITIONS }));
  const bus = app.get<Bus>(BUS);
  const beforeConsume = () =>
    checkTopics(
      bus,
      topics.map((t) => t.topic),
      { mode: env.KAFKA_TOPIC_CHECK as TopicCheckMode, registry: app.get<Registry>(METRICS_REGISTRY), log: new Logger('TopicCheck') },
    );
  app.connectMicroservice({ strategy: new BusServer(bus, topics, { beforeConsume }) }, { inheritAppConfig: true });
  try {
    await app.startAllMicroservices();
  } catch (err) {
    // e.g. a strict topic check failed: release the connections already open before rethrowing
    await app.close().catch(() => undefined);
    throw err;
  }
  return { app, env };
}

/**
 * Starts a seqrec service: validates the environment first (every bad variable listed, then exit
 * 1), then the HTTP server (health, metrics, API) and the bus consumers, with graceful shutdown on
 * SIGTERM/SIGINT: stop taking work, finish and commit the current batch, close connections.
 */
export async function bootstrapService<S extends Record<string, ValidatorSpec<unknown>>>(
  options: BootstrapOptions<S>,
): Promise<NestFastifyApplication> {
  const log = new Logger(options.service);
  let created: Awaited<ReturnType<typeof createService<S>>>;
  try {
    created = await createService(options);
  } catch (err) {
    if (err instanceof EnvError || err instanceof TopicCheckError) {
      log.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const { app, env } = created;
  await app.listen(env.HTTP_PORT, env.HTTP_HOST);
  installShutdown(app, log);
  log.log(
    `${options.service} listening on http://${env.HTTP_HOST}:${env.HTTP_PORT} (bus: ${env.KAFKA_BROKERS ? 'kafka' : 'memory'}, state: ${redisState(env)})`,
  );
  return app;
}

function redisState(env: CleanedEnv<typeof commonEnv>): string {
  const kind = redisTarget(env)?.kind;
  return kind === 'cluster' ? 'redis cluster' : kind ? 'redis' : 'memory';
}

/** Requests by route, method and status and their latency, for every service's HTTP API. */
function instrumentHttp(app: NestFastifyApplication): void {
  const registry = app.get<Registry>(METRICS_REGISTRY);
  const requests = counter(registry, {
    name: 'seqrec_platform_http_requests_total',
    help: 'HTTP requests by route (pattern), method and status',
    labelNames: ['route', 'method', 'status'],
  });
  const duration = histogram(registry, {
    name: 'seqrec_platform_http_request_duration_seconds',
    help: 'HTTP request latency by route (pattern) and method, from the request to the response sent',
    labelNames: ['route', 'method'],
    buckets: LATENCY_BUCKETS,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    duration.observe({ route, method: req.method }, reply.elapsedTime / 1000);
    done();
  });
}

function portSpec(defaultPort: number) {
  return port({ default: defaultPort, desc: 'HTTP port (API, /health/*, /metrics)' });
}

/**
 * On SIGTERM/SIGINT: readiness goes red, consumers finish and commit their batch, connections
 * close, and the process exits 0 (1 if shutdown failed or outlasted SHUTDOWN_TIMEOUT_MS, which
 * must stay below the pod's termination grace period).
 */
function installShutdown(app: NestFastifyApplication, log: Logger): void {
  let closing = false;
  const timeoutMs = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 25_000);
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.log(`${signal}: shutting down`);
    const timer = setTimeout(() => {
      log.error(`shutdown took longer than ${timeoutMs} ms, exiting`);
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (err: Error) => {
        log.error(`shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
