import { str, url } from '@seqrec/config';

/** The variables `npm run models` reads (the CLI's `--url` overrides the first). */
export const modelsCliEnv = {
  SEQREC_TRAINER_URL: url({ default: 'http://localhost:8084', desc: 'npm run models: the trainer whose API it calls (embedded: http://localhost:8080)' }),
  SEQREC_ADMIN_KEY: str({ default: '', desc: 'npm run models: the admin key it sends as x-api-key (one of AUTH_ADMIN_KEYS); empty: none' }),
};
