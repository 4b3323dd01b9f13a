import 'reflect-metadata';
import { ConsoleLogger, Logger, type DynamicModule, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ValidatorSpec } from 'envalid';
import { EnvError, commonEnv, loadEnv, port, redisTarget, type CleanedEnv } from '@seqrec/config';
import type { Bus } from '@seqrec/bus';
import { COMPACTED_TOPICS, PERSONAL_DATA_TOPICS, TOPICS } from '@seqrec/contracts';
import { defaultInstanceId } from '@seqrec/kafka';
import { BusServer } from './bus.server';
import { BUS, METRICS_REGISTRY } from './platform.constants';
import { TopicCheckError, checkTopics, type TopicCheckMode } from './topic-check';
import { LATENCY_BUCKETS, counter, histogram, metricsText, type Registry } from '@seqrec/metrics';
import { authGuardFromEnv, type HttpAuthGuard, type RouteRules } from './auth.guard';
import { CredentialConfigError, type Role } from './credentials';
import { startMetricsServer } from './metrics.server';
import { authEnv, httpServerEnv, httpServerEnvProblems, type AuthEnv, type HttpServerEnv } from './server.env';

export interface BootstrapOptions<S extends Record<string, ValidatorSpec<unknown>>> {
  service: string;
  /** The app's own variables, validated together with the common ones. */
  env: S;
  /** Builds the root module from the validated environment. */
  module: (env: CleanedEnv<typeof commonEnv & S>) => DynamicModule;
  /** Port used when HTTP_PORT is not set. */
  defaultPort: number;
  /** Largest accepted request body in bytes, from the validated environment. Default 1 MiB. */
  bodyLimit?: (env: CleanedEnv<typeof commonEnv & S>) => number;
  /** Who may call which route (see {@link RouteRules}; unlisted routes are `admin`). */
  auth?: {
    routes?: RouteRules;
    /** Credential lists the service reads besides AUTH_*_KEYS (the scorer's SCORER_API_KEYS). */
    extraKeys?: (env: CleanedEnv<typeof commonEnv & S>) => Partial<Record<Role, { value: string; variable: string }>>;
  };
}

/** The validated environment of a service: common, HTTP server, auth, ports, and its own. */
export type ServiceEnv<S extends Record<string, ValidatorSpec<unknown>>> = CleanedEnv<typeof commonEnv & S> &
  HttpServerEnv &
  AuthEnv & { HTTP_PORT: number; METRICS_PORT: number };

/** Default METRICS_PORT: the HTTP port + 1000 (9081 for the ingester's 8081), so services on one host do not collide. */
export const METRICS_PORT_OFFSET = 1_000;

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
 *
 * @param rawEnv the variables; default: the process environment
 */
export async function createService<S extends Record<string, ValidatorSpec<unknown>>>(
  options: BootstrapOptions<S>,
  rawEnv?: NodeJS.ProcessEnv,
): Promise<{ app: NestFastifyApplication; env: ServiceEnv<S>; auth: HttpAuthGuard }> {
  const env = loadEnv(
    {
      ...commonEnv,
      ...httpServerEnv,
      ...authEnv,
      HTTP_PORT: portSpec(options.defaultPort),
      METRICS_PORT: port({ default: options.defaultPort + METRICS_PORT_OFFSET, desc: 'port of GET /metrics (nothing else is served there)' }),
      ...options.env,
    },
    rawEnv,
  ) as never as ServiceEnv<S>;
  const problems = httpServerEnvProblems(env);
  if (Object.keys(problems).length > 0) throw new EnvError(problems);
  let auth: HttpAuthGuard;
  try {
    auth = authGuardFromEnv(env, { ...(options.auth?.routes ? { routes: options.auth.routes } : {}), ...(options.auth?.extraKeys ? { extraKeys: options.auth.extraKeys(env) } : {}) });
  } catch (err) {
    if (err instanceof CredentialConfigError) throw new EnvError({ [err.variable]: err.message.slice(err.variable.length + 2) });
    throw err;
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    options.module(env),
    new FastifyAdapter({
      bodyLimit: options.bodyLimit?.(env) ?? 1024 * 1024,
      trustProxy: true,
      maxParamLength: 256,
      // slow clients: headers, then the whole request, must arrive in time (408 and closed otherwise)
      requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionTimeout: env.HTTP_CONNECTION_TIMEOUT_MS,
      maxRequestsPerSocket: env.HTTP_MAX_REQUESTS_PER_SOCKET,
      http: {
        headersTimeout: env.HTTP_HEADERS_TIMEOUT_MS,
        requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS,
        // how often Node checks those two timeouts (its default, 30 s, would let a slow body run that much longer)
        connectionsCheckingInterval: checkingInterval(env),
      },
    }),
    {
      logger: new ConsoleLogger({
        logLevels: LEVELS[env.LOG_LEVEL] ?? LEVELS.log!,
        json: env.LOG_FORMAT === 'json',
        colors: env.LOG_FORMAT !== 'json' && Boolean(process.stdout.isTTY),
      }),
    },
  );
  if (env.HTTP_MAX_CONNECTIONS > 0) app.getHttpServer().maxConnections = env.HTTP_MAX_CONNECTIONS;
  // installed before init registers the routes (it notes each one)
  auth.instrument(app.get<Registry>(METRICS_REGISTRY));
  auth.install(app.getHttpAdapter().getInstance());
  instrumentHttp(app);
  const topics = Object.values(TOPICS).map((topic) => ({ topic, partitions: env.KAFKA_TOPIC_PARTITIONS, compacted: COMPACTED_TOPICS.has(topic) }));
  const bus = app.get<Bus>(BUS);
  const beforeConsume = () =>
    checkTopics(
      bus,
      topics.map((t) => t.topic),
      {
        mode: env.KAFKA_TOPIC_CHECK as TopicCheckMode,
        registry: app.get<Registry>(METRICS_REGISTRY),
        log: new Logger('TopicCheck'),
        privacy: { maxRetentionMs: env.PRIVACY_MAX_RETENTION_HOURS < 0 ? -1 : env.PRIVACY_MAX_RETENTION_HOURS * 3_600_000, personal: PERSONAL_DATA_TOPICS },
      },
    );
  const instanceId = env.INSTANCE_ID || defaultInstanceId();
  app.connectMicroservice({ strategy: new BusServer(bus, topics, { beforeConsume, instanceId }) }, { inheritAppConfig: true });
  try {
    await app.startAllMicroservices();
  } catch (err) {
    // e.g. a strict topic check failed: release the connections already open before rethrowing
    await app.close().catch(() => undefined);
    throw err;
  }
  return { app, env, auth };
}

function checkingInterval(env: HttpServerEnv): number {
  const limits = [env.HTTP_HEADERS_TIMEOUT_MS, env.HTTP_REQUEST_TIMEOUT_MS].filter((t) => t > 0);
  return Math.max(100, Math.min(1_000, ...limits.map((t) => Math.floor(t / 4))));
}

/** The exposition text of an app's registry: what its METRICS_PORT serves (for in-process tests). */
export function scrapeMetrics(app: { get<T>(token: string): T }): Promise<string> {
  return metricsText(app.get<Registry>(METRICS_REGISTRY));
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
  const { app, env, auth } = created;
  await app.init();
  const missing = auth.missingCredentials();
  if (env.AUTH_REQUIRED && missing.length > 0) {
    log.error(`AUTH_REQUIRED is set and these routes have no credentials: ${missing.map((m) => `${m.role} (${m.variable})`).join(', ')}; not starting`);
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  for (const role of auth.openRoles()) log.warn(`${role} routes are open to anyone: no credentials configured (AUTH_${role.toUpperCase()}_KEYS) and AUTH_REQUIRED is false`);
  await app.listen(env.HTTP_PORT, env.HTTP_HOST);
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>>;
  try {
    metricsServer = await startMetricsServer({ host: env.HTTP_HOST, port: env.METRICS_PORT, registry: app.get<Registry>(METRICS_REGISTRY) });
  } catch (err) {
    log.error(`cannot serve /metrics on ${env.HTTP_HOST}:${env.METRICS_PORT} (METRICS_PORT): ${(err as Error).message}`);
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  installShutdown(app, log, env.SHUTDOWN_TIMEOUT_MS, () =>
    new Promise<void>((resolve) => {
      metricsServer.close(() => resolve());
      metricsServer.closeAllConnections();
    }),
  );
  log.log(
    `${options.service} listening on http://${env.HTTP_HOST}:${env.HTTP_PORT}, metrics on :${env.METRICS_PORT} (bus: ${env.KAFKA_BROKERS ? 'kafka' : 'memory'}, state: ${redisState(env)})`,
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
  return port({ default: defaultPort, desc: 'HTTP port (API, /health/*); /metrics is on METRICS_PORT' });
}

/**
 * On SIGTERM/SIGINT: readiness goes red, consumers finish and commit their batch, connections
 * close, and the process exits 0 (1 if shutdown failed or outlasted SHUTDOWN_TIMEOUT_MS, which
 * must stay below the pod's termination grace period).
 */
function installShutdown(app: NestFastifyApplication, log: Logger, timeoutMs: number, closeMetrics: () => Promise<void>): void {
  let closing = false;
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
      // metrics last: a scrape during the drain still sees it
      () => closeMetrics().finally(() => process.exit(0)),
      (err: Error) => {
        log.error(`shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
