import { bool, cleanEnv, makeValidator, port, str, url, type CleanedEnv, type ValidatorSpec } from 'envalid';
import { redisClusterNodes, redisEnvProblems, redisUrl } from './redis';
import { SeqrecError } from '@seqrec/contracts';

/** Thrown when the environment is invalid; the message lists every bad variable at once. */
export class EnvError extends SeqrecError {
  constructor(readonly problems: Record<string, string>) {
    super(
      `invalid environment (${Object.keys(problems).length} problem${Object.keys(problems).length === 1 ? '' : 's'}):\n` +
        Object.entries(problems)
          .map(([k, v]) => `  ${k}: ${v}`)
          .join('\n'),
      { retriable: false, context: { variables: Object.keys(problems) } },
    );
    this.name = 'EnvError';
  }
}

type Specs = Record<string, ValidatorSpec<unknown>>;

/**
 * Validates `env` against `specs` and returns the typed values. Never exits the process: on any
 * error it throws one {@link EnvError} naming every bad variable, so start-up fails with the whole
 * list instead of one problem per restart.
 */
export function loadEnv<S extends Specs>(specs: S, env: NodeJS.ProcessEnv = process.env): CleanedEnv<S> {
  // a plain frozen copy: envalid's strict proxy throws on any unknown property, which breaks
  // frameworks that probe objects for hooks (Nest's onModuleInit lookup)
  const cleaned = cleanEnv(env, specs, {
    reporter: ({ errors }) => {
      const problems: Record<string, string> = {};
      for (const [k, err] of Object.entries(errors)) if (err) problems[k] = err.message || 'invalid';
      if ('REDIS_CLUSTER_NODES' in specs) for (const [k, p] of Object.entries(redisEnvProblems(env))) problems[k] ??= p;
      if ('KAFKA_STATIC_MEMBERSHIP' in specs) for (const [k, p] of Object.entries(staticMembershipProblems(env))) problems[k] ??= p;
      if (Object.keys(problems).length > 0) throw new EnvError(problems);
    },
  });
  const plain: Record<string, unknown> = {};
  for (const key of Object.keys(specs)) plain[key] = (cleaned as Record<string, unknown>)[key];
  return Object.freeze(plain) as CleanedEnv<S>;
}

/** KAFKA_STATIC_MEMBERSHIP needs the stable name it joins with: the host name + pid default changes on every restart. */
function staticMembershipProblems(env: NodeJS.ProcessEnv): Record<string, string> {
  const on = ['true', '1', 't', 'yes', 'on'].includes((env.KAFKA_STATIC_MEMBERSHIP ?? '').trim().toLowerCase());
  return on && !env.INSTANCE_ID?.trim() ? { INSTANCE_ID: 'KAFKA_STATIC_MEMBERSHIP=true needs a stable INSTANCE_ID (the pod name)' } : {};
}

/**
 * A finite number, the whole value: envalid's own `num` reads it with parseFloat, so `25s` or `6x`
 * passed as 25 and 6, a unit silently dropped.
 */
export const num = makeValidator<number>((input) => {
  const n = Number(input.trim());
  if (input.trim() === '' || !Number.isFinite(n)) throw new Error(`expected a number, got "${input}"`);
  return n;
});

/** A whole number ≥ 0: counts, and durations in ms where 0 means "off". */
export const whole = makeValidator<number>((input) => {
  const n = Number(input.trim());
  if (input.trim() === '' || !Number.isInteger(n) || n < 0) throw new Error(`expected a whole number ≥ 0, got "${input}"`);
  return n;
});

/** A whole number ≥ 1: durations in ms that have no "off" (a timer of 0 would fire at once). */
export const positiveWhole = makeValidator<number>((input) => {
  const n = Number(input.trim());
  if (input.trim() === '' || !Number.isInteger(n) || n < 1) throw new Error(`expected a whole number > 0, got "${input}"`);
  return n;
});

const positive = (name: string) => (n: number) => {
  if (!(n > 0)) throw new Error(`${name} must be > 0`);
  return n;
};

/** Variables every service reads. An empty KAFKA_BROKERS / REDIS_URL selects the in-memory (embedded) adapters. */
export const commonEnv = {
  NODE_ENV: str({ choices: ['development', 'production', 'test'], default: 'production', desc: 'the usual Node convention, for libraries that read it; seqrec itself behaves the same under every value' }),
  LOG_LEVEL: str({ choices: ['debug', 'log', 'warn', 'error'], default: 'log', desc: 'least severe log level written' }),
  LOG_FORMAT: str({ choices: ['text', 'json'], default: 'text', desc: 'json: one JSON object per line (for log shippers)' }),
  HTTP_HOST: str({ default: '0.0.0.0', desc: 'interface the HTTP server binds' }),
  INSTANCE_ID: str({ default: '', desc: 'stable name of this process (pod name), naming its per-instance consumer groups; default host name + pid' }),
  SHUTDOWN_TIMEOUT_MS: positiveWhole({ default: 25_000, desc: 'graceful shutdown budget after SIGTERM, ms: past it the process exits 1 (keep under the pod\'s termination grace period)' }),
  KAFKA_BROKERS: str({ default: '', desc: 'comma-separated host:port list; empty: in-memory bus (embedded mode)' }),
  KAFKA_CLIENT_ID: str({ default: 'seqrec', desc: 'client.id prefix of every Kafka client (the broker\'s logs and quotas see it)' }),
  KAFKA_NAMESPACE: str({ default: '', desc: 'prefix of every topic and consumer group (<namespace>.<topic>); empty: none' }),
  KAFKA_SSL: bool({ default: false, desc: 'TLS to the brokers (security.protocol ssl, or sasl_ssl with a SASL mechanism)' }),
  KAFKA_SASL_MECHANISM: str({ choices: ['', 'plain', 'scram-sha-256', 'scram-sha-512'], default: '', desc: 'SASL mechanism; empty: no SASL' }),
  KAFKA_SASL_USERNAME: str({ default: '', desc: 'SASL user name' }),
  KAFKA_SASL_PASSWORD: str({ default: '', desc: 'SASL password (from a Secret)' }),
  KAFKA_TOPIC_PARTITIONS: num({ default: 6, desc: 'partitions of topics seqrec creates when they are missing' }),
  KAFKA_FETCH_MAX_WAIT_MS: num({ default: 50, desc: 'longest a consumer fetch waits for new data, ms: the floor of every hop\'s latency when traffic is light (each idle consumer sends about 1000/this fetches a second)' }),
  KAFKA_COMPRESSION: str({ choices: ['none', 'gzip', 'snappy', 'lz4', 'zstd'], default: 'lz4', desc: 'codec of the batches seqrec produces (consumers read every codec whatever this says)' }),
  KAFKA_REPLICATION_FACTOR: num({ default: -1, desc: 'replicas of topics seqrec creates; -1: the broker default. Production: 3' }),
  KAFKA_MIN_INSYNC_REPLICAS: num({ default: 1, desc: 'min.insync.replicas of topics seqrec creates. Production: 2' }),
  KAFKA_RETENTION_HOURS: num({ default: 168, desc: 'retention.ms of topics seqrec creates, in hours; -1: forever' }),
  KAFKA_MAX_MESSAGE_BYTES: num({ default: 1_048_588, desc: 'max.message.bytes of topics seqrec creates' }),
  KAFKA_SESSION_TIMEOUT_MS: num({
    default: 30_000,
    desc: 'consumer group session timeout: a member silent this long (crashed, paused, partitioned away) loses its partitions to the others; heartbeats every third of it, at most every 3 s. The broker accepts its group.min.session.timeout.ms to group.max.session.timeout.ms (6,000 to 1,800,000 by default)',
  }),
  KAFKA_STATIC_MEMBERSHIP: bool({
    default: false,
    desc: 'join consumer groups as a static member (KIP-345, group.instance.id = INSTANCE_ID): a restarted process gets its partitions back at once instead of after KAFKA_SESSION_TIMEOUT_MS, and one that stops does not leave its group. Only where INSTANCE_ID is stable across restarts and unique (StatefulSet pod names; docs/operations.md, "Consumer groups")',
  }),
  KAFKA_STALLED_CONSUMER_MS: num({
    default: 120_000,
    desc: 'a consumer whose partitions have lag (or that cannot read its lag while the broker answers a fresh client) and that has neither committed nor seen its handler fail for this long is wedged: /health/live fails so it is restarted (judged on the lag readings, every KAFKA_LAG_INTERVAL_MS); 0: off',
  }),
  KAFKA_LAG_INTERVAL_MS: num({ default: 15_000, desc: 'how often consumer lag is read from the broker (end offset minus committed) for the lag metrics and the wedged-consumer check, ms' }),
  KAFKA_DEBUG: str({
    default: '',
    desc: 'librdkafka debug contexts (comma-separated, e.g. cgrp,consumer,fetch), logged at warn: for diagnosing consumer group and fetch problems, verbose; empty: off',
  }),
  KAFKA_TOPIC_CHECK: str({
    choices: ['off', 'warn', 'strict'],
    default: 'warn',
    desc: 'at start-up, compare existing topics with KAFKA_REPLICATION_FACTOR, _MIN_INSYNC_REPLICAS, _RETENTION_HOURS, _MAX_MESSAGE_BYTES: warn (log + gauge), strict (also exit before ready), off',
  }),
  REDIS_URL: redisUrl({ default: '', desc: 'redis:// or rediss:// URL, or redis-cluster://host:port,... for a Redis Cluster; empty (and no REDIS_CLUSTER_NODES): in-memory state (embedded mode)' }),
  REDIS_CLUSTER_NODES: redisClusterNodes({ default: '', desc: 'host:port,... of some Redis Cluster nodes: selects the Cluster client (instead of REDIS_URL)' }),
  REDIS_PREFIX: str({ default: 'seqrec', desc: 'namespace of every key' }),
  SEQUENCE_TTL_DAYS: num({ default: 30, desc: 'a user window expires after this long without events (with the links of the sessions merged into it)' }),
  TRENDING_HALF_LIFE_MINUTES: positiveWhole({ default: 360, desc: 'half-life of the live trending counts (the sequence-builder keeps them, the scorer\'s popularity fallback reads them): an event counts half after this long' }),
  SESSION_WINDOW_TTL_HOURS: num({ default: 24, desc: 'an anonymous session\'s window expires after this long without events' }),
  PRIVACY_MARKER_TTL_DAYS: whole({
    default: 30,
    desc: 'a deleted user\'s deletion marker (which keeps events stamped before the deletion out of every window) lives this long; at least the events topic\'s retention; 0: forever (docs/privacy.md)',
  }),
  PRIVACY_MAX_RETENTION_HOURS: num({
    default: 720,
    desc: 'the longest a topic holding personal data that seqrec cannot rewrite (raw, events, dead letters, window updates) may keep it: KAFKA_RETENTION_HOURS above it (or -1) stops the service, an existing topic above it is reported by the topic check; -1: no bound (docs/privacy.md)',
  }),
  PRIVACY_PSEUDONYMIZE: bool({
    default: false,
    desc: 'replace every user id by HMAC-SHA-256(PRIVACY_HMAC_KEY, id) at the edge (the ingester, and every lookup by user id), so no raw user id reaches a topic, a key or a log of seqrec (docs/privacy.md)',
  }),
  PRIVACY_HMAC_KEY: str({ default: '', desc: 'the pseudonymisation key, at least 32 characters (from a Kubernetes Secret: k8s/base/privacy-secret.yaml); changing it orphans every user\'s state' }),
  REDIS_COMMAND_TIMEOUT_MS: whole({ default: 5_000, desc: 'a Redis command without an answer after this long fails (ioredis commandTimeout); 0: wait forever' }),
  REDIS_PING_INTERVAL_MS: whole({ default: 1_000, desc: 'readiness PINGs Redis this often (every master of a Cluster); 0: no PING, readiness follows the connection only' }),
  REDIS_PING_TIMEOUT_MS: whole({ default: 2_000, desc: 'readiness turns red when a PING is unanswered this long (a hung Redis)' }),
};

/**
 * Sets a variable for a native library that reads the process environment itself, e.g.
 * libtensorflow's TF_ENABLE_ONEDNN_OPTS (read when it builds its first kernel). The value should
 * come from a validated spec: this is how configuration reaches such a library, not a way to
 * pass values between seqrec modules.
 */
export function setNativeEnv(name: string, value: string): void {
  process.env[name] = value;
}

export { bool, makeValidator, port, str, url, positive };
export type { CleanedEnv };

/**
 * Read by the sequence-builder (session breaks in windows) and the embedding service (session
 * features): one spec, so the two cannot disagree on what a session is.
 */
export const sessionEnv = {
  SESSION_GAP_MINUTES: num({ default: 30, desc: 'inactivity that starts a new session (the window\'s session breaks and the session features)' }),
};

/**
 * The operator console (`/console/` on the scorer and the embedded process): static pages plus admin
 * reads of a user's window and the model store. Off by default (a production scorer serves no
 * page); the embedded process (`npm start`) turns it on, the k8s production overlay keeps it off.
 */
export const consoleEnv = {
  ...sessionEnv,
  CONSOLE_ENABLED: bool({
    default: false,
    desc: 'serve the operator console at /console/ (static page; its data needs the API keys: admin for a user\'s window and the models, client for recommendations, producer for a posted click); off: 404',
  }),
};

/** What the operator CLIs (`npm run models`, `npm run experiments`) share: the admin key they call the APIs with. */
export const operatorCliEnv = {
  SEQREC_ADMIN_KEY: str({ default: '', desc: 'npm run models and npm run experiments: the admin key they send as x-api-key (one of AUTH_ADMIN_KEYS); empty: none' }),
};
