import { num, sessionEnv } from '@seqrec/config';
import { backendEnv } from '@seqrec/model';
import { modelStoreEnv, servedModelEnv } from '@seqrec/model-store';

/** The embedding service's variables. */
export const embeddingEnv = {
  ...backendEnv,
  ...modelStoreEnv,
  ...servedModelEnv,
  EMBEDDING_MAX_BATCH: num({ default: 256, desc: 'user windows per forward pass' }),
  ...sessionEnv,
};
