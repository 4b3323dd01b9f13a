import { url } from '@seqrec/config';

/** The variables `npm run models` reads besides `operatorCliEnv` (the CLI's `--url` overrides it). */
export const modelsCliEnv = {
  SEQREC_TRAINER_URL: url({ default: 'http://localhost:8084', desc: 'npm run models: the trainer whose API it calls (embedded: http://localhost:8080)' }),
};
