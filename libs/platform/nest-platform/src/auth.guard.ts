import type { FastifyInstance, FastifyRequest } from 'fastify';
import { counter, type Counter, type Registry } from '@seqrec/metrics';
import { CredentialStore, ROLES, type Credential, type Role } from './credentials';
import type { AuthEnv } from './server.env';
import { TokenBuckets, type BucketLimit } from './token-bucket';

/** Who may call a route: a role's credential, or anyone (`public`). */
export type RouteAccess = Role | 'public';

/**
 * Access by route: keys are `"<METHOD> <route pattern>"` or `"<route pattern>"` (any method), with
 * the pattern as the route declares it (`/v1/users/:userId/sequence`); a pattern ending in `*`
 * covers every route starting with what precedes it. The most specific rule wins: exact with
 * method, exact, then the longest prefix (with method first). HEAD follows GET.
 */
export type RouteRules = Record<string, RouteAccess>;

/** Every service: health stays open (probes carry no credentials). Anything unlisted is `admin`. */
export const PLATFORM_ROUTE_RULES: RouteRules = { '/health/*': 'public' };

export interface AuthGuardOptions {
  /** Refuse requests (and, through {@link HttpAuthGuard.missingCredentials}, the start) of a role without credentials. */
  required: boolean;
  credentials: CredentialStore;
  /** Rate limit per credential, by role. */
  limits: Record<Role, BucketLimit>;
  /** The service's routes; merged over {@link PLATFORM_ROUTE_RULES}. */
  routes?: RouteRules;
  /** Names of the variables holding each role's credentials, for messages. */
  variables?: Partial<Record<Role, string>>;
  registry?: Registry;
  now?: () => number;
}

/** What to do with one request. */
export type AuthDecision =
  | { ok: true; role: RouteAccess; credential?: Credential }
  | { ok: false; status: 401 | 403 | 429; headers: Record<string, string>; body: Record<string, unknown> };

type Headers = Record<string, string | string[] | undefined>;

const DEFAULT_VARIABLES: Record<Role, string> = { producer: 'AUTH_PRODUCER_KEYS', client: 'AUTH_CLIENT_KEYS', admin: 'AUTH_ADMIN_KEYS' };

/**
 * The HTTP guard of every seqrec service: decides by route which role a request needs, checks the
 * credential it carries (`x-api-key: <key>` or `Authorization: Bearer <key>`), and applies that
 * credential's rate limit (token bucket per credential and role; 429 + Retry-After).
 *
 * - A role with credentials configured always requires one of them: 401 without a credential or
 *   with an unknown one, 403 with a credential of another role only.
 * - A role without credentials is open, unless `required` (then every request of it is refused,
 *   and the service does not start: see {@link missingCredentials}).
 * - Anonymous requests to an open role are not rate limited (there is no credential to count).
 *
 * {@link install} runs it as a fastify `onRequest` hook: before the body is read, so a refused or
 * limited request costs a hash and no parsing.
 */
export class HttpAuthGuard {
  private readonly rules: RouteRules;
  private readonly buckets: TokenBuckets;
  private denied: Counter<'role' | 'reason' | 'credential'> | null = null;
  private readonly served = new Set<RouteAccess>();
  private readonly accessCache = new Map<string, RouteAccess>();
  private readonly variables: Record<Role, string>;

  constructor(private readonly options: AuthGuardOptions) {
    this.rules = { ...PLATFORM_ROUTE_RULES, ...options.routes };
    this.buckets = new TokenBuckets(options.now);
    this.variables = { ...DEFAULT_VARIABLES, ...options.variables };
    if (options.registry) this.instrument(options.registry);
  }

  /** Counts refused requests in `registry` (`seqrec_platform_auth_denied_requests_total`). */
  instrument(registry: Registry): void {
    this.denied = counter(registry, {
      name: 'seqrec_platform_auth_denied_requests_total',
      help: 'HTTP requests refused by the guard, by role of the route and reason (missing, invalid, forbidden: another role, rate_limited; credential: 8 hex digits of its SHA-256)',
      labelNames: ['role', 'reason', 'credential'],
    });
  }

  /** The access a route needs (see {@link RouteRules}). */
  access(method: string, route: string): RouteAccess {
    const m = method === 'HEAD' ? 'GET' : method.toUpperCase();
    const cacheKey = `${m} ${route}`;
    const cached = this.accessCache.get(cacheKey);
    if (cached) return cached;
    let found: RouteAccess | undefined = this.rules[`${m} ${route}`] ?? this.rules[route];
    if (found === undefined) {
      let best = -1;
      for (const [key, access] of Object.entries(this.rules)) {
        if (!key.endsWith('*')) continue;
        const space = key.indexOf(' ');
        const keyMethod = space > 0 && !key.startsWith('/') ? key.slice(0, space) : null;
        const prefix = (keyMethod ? key.slice(space + 1) : key).slice(0, -1);
        if (keyMethod !== null && keyMethod !== m) continue;
        if (!route.startsWith(prefix)) continue;
        // longer prefixes win; at equal length, a rule naming the method wins
        const score = prefix.length * 2 + (keyMethod ? 1 : 0);
        if (score > best) {
          best = score;
          found = access;
        }
      }
    }
    const access = found ?? 'admin';
    this.accessCache.set(cacheKey, access);
    return access;
  }

  /** Records a route the service serves (for {@link missingCredentials}). */
  noteRoute(method: string, route: string): void {
    this.served.add(this.access(method, route));
  }

  /** Roles the noted routes need and that have no credentials; a service with `required` must not start with any. */
  missingCredentials(): { role: Role; variable: string }[] {
    return ROLES.filter((r) => this.served.has(r) && !this.options.credentials.has(r)).map((role) => ({ role, variable: this.variables[role] }));
  }

  /** Roles the noted routes need that are open (no credentials, not required): for a start-up warning. */
  openRoles(): Role[] {
    return this.options.required ? [] : ROLES.filter((r) => this.served.has(r) && !this.options.credentials.has(r));
  }

  /** Decides one request from its method, matched route pattern and headers. */
  check(method: string, route: string, headers: Headers): AuthDecision {
    const role = this.access(method, route);
    if (role === 'public') return { ok: true, role };
    const configured = this.options.credentials.has(role);
    if (!configured && !this.options.required) return { ok: true, role };
    const presented = presentedCredential(headers);
    if (presented === undefined) {
      return this.deny(role, 'missing', undefined, 401, {
        field: 'x-api-key',
        message: configured
          ? 'an API key is required (x-api-key or Authorization: Bearer)'
          : `an API key is required and none is configured for ${role} routes (${this.variables[role]}, AUTH_REQUIRED)`,
      });
    }
    const credential = configured ? this.options.credentials.match(presented) : null;
    if (credential === null) {
      // not configured at all for this role: say so only through the metrics and the start-up check
      return this.deny(role, 'invalid', undefined, 401, { field: 'credentials', message: 'unknown API key' });
    }
    if (!credential.roles.has(role)) {
      return this.deny(role, 'forbidden', credential, 403, { field: 'credentials', message: `this API key may not call ${role} routes` });
    }
    const limit = this.options.limits[role];
    const waitMs = this.buckets.take(`${role}:${credential.id}`, limit);
    if (waitMs > 0) {
      const retryAfter = String(Math.max(1, Math.ceil(waitMs / 1000)));
      return this.deny(role, 'rate_limited', credential, 429, {
        message: `rate limit of this API key exceeded: ${limit.ratePerSec} requests/s, bursts of ${Math.max(1, limit.burst)} (AUTH_${role.toUpperCase()}_RATE, _BURST)`,
      }, { 'retry-after': retryAfter });
    }
    return { ok: true, role, credential };
  }

  /**
   * Runs the guard on `fastify` before any body is read: `onRoute` notes every route as it is
   * registered (add this before the routes are), `onRequest` answers refused requests. Requests
   * that match no route (404) pass: there is nothing behind them.
   */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) this.noteRoute(String(method), route.url);
    });
    fastify.addHook('onRequest', (request, reply, done) => {
      const route = request.routeOptions.url;
      if (request.is404 || route === undefined) return done();
      const decision = this.check(request.method, route, request.headers);
      if (decision.ok) {
        if (decision.credential) (request as CredentialCarrier)[CREDENTIAL] = decision.credential.id;
        return done();
      }
      void reply.code(decision.status).headers(decision.headers).send(decision.body);
    });
  }

  private deny(
    role: Role,
    reason: 'missing' | 'invalid' | 'forbidden' | 'rate_limited',
    credential: Credential | undefined,
    status: 401 | 403 | 429,
    detail: { field?: string; message: string },
    headers: Record<string, string> = {},
  ): AuthDecision {
    this.denied?.inc({ role, reason, credential: credential?.id ?? '' });
    const error = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Too Many Requests';
    const extra: Record<string, string> = status === 401 ? { 'www-authenticate': 'Bearer realm="seqrec"' } : {};
    return { ok: false, status, headers: { ...extra, ...headers }, body: { statusCode: status, error, ...detail } };
  }
}

const CREDENTIAL = Symbol('seqrec.credential');
type CredentialCarrier = FastifyRequest & { [CREDENTIAL]?: string };

/**
 * The id of the credential the guard admitted a request with (the first hex digits of its SHA-256,
 * as in the metrics), or `''` when its route is open (no credentials configured, or public).
 */
export function requestCredentialId(request: FastifyRequest): string {
  return (request as CredentialCarrier)[CREDENTIAL] ?? '';
}

/** The credential a request carries: `x-api-key`, else `Authorization: Bearer <token>`. */
export function presentedCredential(headers: Headers): string | undefined {
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key !== '') return key;
  const auth = headers['authorization'];
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * The guard of a service from its environment: AUTH_* variables, plus extra credential lists the
 * service names (e.g. the scorer's SCORER_API_KEYS, which count as client keys).
 */
export function authGuardFromEnv(
  env: AuthEnv,
  options: { routes?: RouteRules; extraKeys?: Partial<Record<Role, { value: string; variable: string }>>; registry?: Registry } = {},
): HttpAuthGuard {
  const lists: Record<Role, { value: string; variable: string }[]> = {
    producer: [{ value: env.AUTH_PRODUCER_KEYS, variable: 'AUTH_PRODUCER_KEYS' }],
    client: [{ value: env.AUTH_CLIENT_KEYS, variable: 'AUTH_CLIENT_KEYS' }],
    admin: [{ value: env.AUTH_ADMIN_KEYS, variable: 'AUTH_ADMIN_KEYS' }],
  };
  const variables: Record<Role, string> = { ...DEFAULT_VARIABLES };
  for (const role of ROLES) {
    const extra = options.extraKeys?.[role];
    if (!extra) continue;
    lists[role].push(extra);
    variables[role] = `${variables[role]} or ${extra.variable}`;
  }
  return new HttpAuthGuard({
    required: env.AUTH_REQUIRED,
    credentials: new CredentialStore(lists),
    limits: {
      producer: { ratePerSec: env.AUTH_PRODUCER_RATE, burst: env.AUTH_PRODUCER_BURST },
      client: { ratePerSec: env.AUTH_CLIENT_RATE, burst: env.AUTH_CLIENT_BURST },
      admin: { ratePerSec: env.AUTH_ADMIN_RATE, burst: env.AUTH_ADMIN_BURST },
    },
    variables,
    ...(options.routes ? { routes: options.routes } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
  });
}
