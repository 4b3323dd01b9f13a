import { embeddingEnv } from '@seqrec/embedding';
import { ingestEnv } from '@seqrec/ingest';
import type { BootstrapOptions } from '@seqrec/nest-platform';
import { CONSOLE_ROUTE_RULES, SCORING_ROUTE_RULES, scoringEnv } from '@seqrec/scoring';
import { sequencingEnv } from '@seqrec/sequence-builder';
import { TRAINING_ROUTE_RULES, trainingEnv } from '@seqrec/training';
import { AppModule } from './app.module';
import { demoEnv, embeddedDefaults } from './demo/demo.env';

/** The services' variables, with the demo's own defaults where the distributed ones suit a cluster. */
const env = {
  ...ingestEnv,
  ...sequencingEnv,
  ...trainingEnv,
  ...embeddingEnv,
  ...scoringEnv,
  ...demoEnv,
  ...embeddedDefaults,
};

export const embeddedService: BootstrapOptions<typeof env> = {
  service: 'embedded',
  env,
  defaultPort: 8080,
  bodyLimit: (e) => Math.max(e.INGEST_MAX_BODY_BYTES, e.SCORER_MAX_BODY_BYTES),
  module: (e) => AppModule.register(e),
  // The scorer's routes for its clients (under /v1/*, so a user's window and vectors are client
  // reads here too), events for producers, training, model promotion and user deletions for admins.
  auth: {
    routes: { ...SCORING_ROUTE_RULES, ...CONSOLE_ROUTE_RULES, 'POST /v1/events': 'producer', 'POST /v1/items': 'producer', 'DELETE /v1/items/*': 'producer', 'DELETE /v1/users/*': 'admin', 'PUT /v1/users/*': 'admin', ...TRAINING_ROUTE_RULES },
    extraKeys: (e) => ({ client: { value: e.SCORER_API_KEYS, variable: 'SCORER_API_KEYS' } }),
  },
};
