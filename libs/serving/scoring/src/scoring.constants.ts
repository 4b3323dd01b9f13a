import type { RouteRules } from '@seqrec/nest-platform';

export const SCORING_OPTIONS = 'SEQREC_SCORING_OPTIONS';
export const SCORING_METRICS = 'SEQREC_SCORING_METRICS';
export const MODEL_STORE = 'SEQREC_MODEL_STORE';

/** Who may call the scorer's routes (the platform's guard): the API is for clients, its document is open. */
export const SCORING_ROUTE_RULES: RouteRules = { '/v1/*': 'client', '/v1/experiments': 'admin', '/v1/experiments/*': 'admin', 'GET /openapi.json': 'public' };
