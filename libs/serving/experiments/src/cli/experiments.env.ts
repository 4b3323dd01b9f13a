import { url } from '@seqrec/config';

/** The variables `npm run experiments` reads besides `operatorCliEnv` (the CLI's `--url` overrides it). */
export const experimentsCliEnv = {
  SEQREC_SCORER_URL: url({ default: 'http://localhost:8080', desc: 'npm run experiments: the scorer whose experiments API it calls (embedded too)' }),
};
