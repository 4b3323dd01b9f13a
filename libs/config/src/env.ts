import { bool, cleanEnv, num, port, str, url, type CleanedEnv, type ValidatorSpec } from 'envalid';

/** Thrown when the environment is invalid; the message lists every bad variable at once. */
export class EnvError extends Error {
  constructor(readonly problems: Record<string, string>) {
    super(
      `invalid environment (${Object.keys(problems).length} problem${Object.keys(problems).length === 1 ? '' : 's'}):\n` +
        Object.entries(problems)
          .map(([k, v]) => `  ${k}: ${v}`)
          .join('\n'),
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
      if (Object.keys(problems).length > 0) throw new EnvError(problems);
    },
  });
  const plain: Record<string, unknown> = {};
  for (const key of Object.keys(specs)) plain[key] = (cleaned as Record<string, unknown>)[key];
  return Object.freeze(plain) as CleanedEnv<S>;
}

const positive = (name: string) => (n: number) => {
  if (!(n > 0)) throw new Error(`${name} must be > 0`);
  return n;
};

/** Variables every service reads. An empty KAFKA_BROKERS / REDIS_URL selects the in-memory (embedded) adapters. */
export const commonEnv = {
  NODE_ENV: str({ choices: ['development', 'production', 'test'], default: 'production' }),
  LOG_LEVEL: str({ choices: ['debug', 'log', 'warn', 'error'], default: 'log' }),
  LOG_FORMAT: str({ choices: ['text', 'json'], default: 'text', desc: 'json: one JSON object per line (for log shippers)' }),
  HTTP_HOST: str({ default: '0.0.0.0', desc: 'interface the HTTP server binds' }),
  INSTANCE_ID: str({ default: '', desc: 'stable name of this process (pod name), naming its per-instance consumer groups; default host name + pid' }),
  KAFKA_BROKERS: str({ default: '', desc: 'comma-separated host:port list; empty: in-memory bus (embedded mode)' }),
  KAFKA_CLIENT_ID: str({ default: 'seqrec' }),
  KAFKA_NAMESPACE: str({ default: '', desc: 'prefix of every topic and consumer group (<namespace>.<topic>); empty: none' }),
  KAFKA_SSL: bool({ default: false }),
  KAFKA_SASL_MECHANISM: str({ choices: ['', 'plain', 'scram-sha-256', 'scram-sha-512'], default: '' }),
  KAFKA_SASL_USERNAME: str({ default: '' }),
  KAFKA_SASL_PASSWORD: str({ default: '' }),
  KAFKA_TOPIC_PARTITIONS: num({ default: 6, desc: 'partitions of topics seqrec creates when they are missing' }),
  REDIS_URL: str({ default: '', desc: 'redis:// or rediss:// URL; empty: in-memory state (embedded mode)' }),
  REDIS_PREFIX: str({ default: 'seqrec', desc: 'namespace of every key' }),
  SEQUENCE_TTL_DAYS: num({ default: 30, desc: 'a user window expires after this long without events' }),
};

export { bool, num, port, str, url, positive };
export type { CleanedEnv };
