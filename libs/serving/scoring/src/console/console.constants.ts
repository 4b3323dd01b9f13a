import type { RouteRules } from '@seqrec/nest-platform';

/**
 * Who may call the console's routes (the platform's guard): its static files are open (they carry
 * no data), every read behind them needs an admin key. The page itself also calls the API with the
 * key it is given: the scorer's `/v1/*` (client) and, where the process ingests, `POST /v1/events`
 * (producer).
 */
export const CONSOLE_ROUTE_RULES: RouteRules = {
  'GET /console': 'public',
  'GET /console/': 'public',
  'GET /console/:file': 'public',
  '/console/api/*': 'admin',
};

/**
 * The Content-Security-Policy of the console's files: scripts, styles and fetches from this origin
 * only, no inline script or style, no plugin, no framing, no form posts, no base-URL change.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_OPTIONS = 'SEQREC_CONSOLE_OPTIONS';
