// The seqrec HTTP API as the console calls it: same origin, the key from sessionStorage sent as
// x-api-key (never a cookie), JSON in and out.

const KEY = 'seqrec.console.key';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY) ?? '',
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

/** The role a path needs (the services' route rules), for messages. */
function roleOf(method, path) {
  if (path.startsWith('/console/api/') || path.startsWith('/v1/experiments')) return 'admin (AUTH_ADMIN_KEYS)';
  if (method === 'POST' && path === '/v1/events') return 'producer (AUTH_PRODUCER_KEYS)';
  return 'client (AUTH_CLIENT_KEYS)';
}

export class ApiError extends Error {
  constructor(method, path, status, body) {
    const detail = body && typeof body.message === 'string' ? body.message : `HTTP ${status}`;
    let hint = '';
    if (status === 401) hint = apiKey.get() ? ' — this key is not known here' : ' — enter an API key';
    if (status === 403) hint = ` — this key lacks the ${roleOf(method, path)} role`;
    super(`${method} ${path}: ${status} ${detail}${hint}`);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** Calls the API; resolves to the JSON answer, rejects with an ApiError for any non-2xx status. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  const key = apiKey.get();
  if (key) headers['x-api-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  let data = null;
  if ((res.headers.get('content-type') ?? '').includes('json')) data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(method, path, res.status, data);
  return data;
}

/** `/v1/users/<id>/...` with the id encoded as one path segment. */
export const userPath = (userId, rest) => `/v1/users/${encodeURIComponent(userId)}/${rest}`;
export const consoleUserPath = (userId, rest) => `/console/api/users/${encodeURIComponent(userId)}/${rest}`;
