import { bool, str, whole, type CleanedEnv } from '@seqrec/config';

/**
 * Limits of every service's HTTP server (docs/configuration.md). Node's defaults hold a slow
 * request body forever (no request timeout) and take any number of connections.
 */
export const httpServerEnv = {
  HTTP_HEADERS_TIMEOUT_MS: whole({ default: 10_000, desc: 'a request whose headers are not complete after this long is answered 408 and closed' }),
  HTTP_REQUEST_TIMEOUT_MS: whole({ default: 30_000, desc: 'a request (headers and body) not received completely after this long is answered 408 and closed: a slow body is cut off; 0: no limit' }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: whole({ default: 72_000, desc: 'an idle keep-alive connection is closed after this long (keep above the load balancer idle timeout)' }),
  HTTP_CONNECTION_TIMEOUT_MS: whole({ default: 120_000, desc: 'a connection with no traffic either way for this long is closed; 0: never' }),
  HTTP_MAX_CONNECTIONS: whole({ default: 4_096, desc: 'open connections per process; further ones are closed at once; 0: no cap' }),
  HTTP_MAX_REQUESTS_PER_SOCKET: whole({ default: 0, desc: 'requests served on one keep-alive connection before it is closed (spreads clients over replicas); 0: no limit' }),
};

/**
 * Credentials and per-credential rate limits (docs/api.md, "Authentication"). Every list is
 * comma-separated secrets or `sha256:<hex>` digests; x-api-key or Authorization: Bearer carries one.
 */
export const authEnv = {
  AUTH_REQUIRED: bool({ default: false, desc: 'refuse to start unless every role this service serves has credentials (prod overlay: true)' }),
  AUTH_PRODUCER_KEYS: str({ default: '', desc: 'credentials of producers (POST /v1/events); empty and AUTH_REQUIRED=false: open' }),
  AUTH_CLIENT_KEYS: str({ default: '', desc: 'credentials of scorer clients (scorer API, item vectors); empty and AUTH_REQUIRED=false: open' }),
  AUTH_ADMIN_KEYS: str({ default: '', desc: 'credentials of operators (training, per-user reads, every other route); empty and AUTH_REQUIRED=false: open' }),
  AUTH_PRODUCER_RATE: whole({ default: 200, desc: 'requests per second per producer credential and process (token bucket); 0: unlimited' }),
  AUTH_PRODUCER_BURST: whole({ default: 400, desc: 'bucket size of AUTH_PRODUCER_RATE' }),
  AUTH_CLIENT_RATE: whole({ default: 1_000, desc: 'requests per second per client credential and process; 0: unlimited' }),
  AUTH_CLIENT_BURST: whole({ default: 2_000, desc: 'bucket size of AUTH_CLIENT_RATE' }),
  AUTH_ADMIN_RATE: whole({ default: 10, desc: 'requests per second per admin credential and process; 0: unlimited' }),
  AUTH_ADMIN_BURST: whole({ default: 20, desc: 'bucket size of AUTH_ADMIN_RATE' }),
};

export type HttpServerEnv = CleanedEnv<typeof httpServerEnv>;
export type AuthEnv = CleanedEnv<typeof authEnv>;

/** Problems between variables (each alone is checked by its validator). */
export function httpServerEnvProblems(
  env: Pick<HttpServerEnv, 'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_REQUEST_TIMEOUT_MS'> & { HTTP_PORT: number; METRICS_PORT: number },
): Record<string, string> {
  const problems: Record<string, string> = {};
  if (env.HTTP_REQUEST_TIMEOUT_MS > 0 && env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    problems['HTTP_HEADERS_TIMEOUT_MS'] = `must not exceed HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS})`;
  }
  if (env.METRICS_PORT === env.HTTP_PORT) problems['METRICS_PORT'] = `must differ from HTTP_PORT (${env.HTTP_PORT}): /metrics has its own port`;
  return problems;
}
