import type { RouteRules } from '@seqrec/nest-platform';

export const TRAINING_OPTIONS = 'SEQREC_TRAINING_OPTIONS';
export const TRAINING_METRICS = 'SEQREC_TRAINING_METRICS';
export const MODEL_STORE = 'SEQREC_MODEL_STORE';

/** Who may call the trainer's routes (the trainer and the embedded process declare them): admins only. */
export const TRAINING_ROUTE_RULES: RouteRules = {
  '/v1/train': 'admin',
  '/v1/train/*': 'admin',
  '/v1/models': 'admin',
  'POST /v1/models/:version/promote': 'admin',
};
