import { num, str } from '@seqrec/config';
import { backendEnv } from '@seqrec/model';

/** The embedding service's variables. */
export const embeddingEnv = {
  ...backendEnv,
  MODEL_STORE_DIR: str({ default: './models', desc: 'root of the filesystem model store' }),
  MODEL_NAME: str({ default: 'sasrec', desc: 'model whose CURRENT version encodes user windows' }),
  EMBEDDING_MAX_BATCH: num({ default: 256, desc: 'user windows per forward pass' }),
  SESSION_GAP_MINUTES: num({ default: 30, desc: 'inactivity that starts a new session (user features)' }),
};
