import type { BootstrapOptions } from '@seqrec/nest-platform';
import { CONSOLE_ROUTE_RULES, SCORING_ROUTE_RULES, scoringEnv } from '@seqrec/scoring';
import { AppModule } from './app.module';

/** How the scorer is built; shared by main.ts and the in-process tests. */
export const scorerService: BootstrapOptions<typeof scoringEnv> = {
  service: 'scorer',
  env: scoringEnv,
  defaultPort: 8080,
  bodyLimit: (env) => env.SCORER_MAX_BODY_BYTES,
  module: (env) => AppModule.register(env),
  auth: { routes: { ...SCORING_ROUTE_RULES, ...CONSOLE_ROUTE_RULES }, extraKeys: (env) => ({ client: { value: env.SCORER_API_KEYS, variable: 'SCORER_API_KEYS' } }) },
};
