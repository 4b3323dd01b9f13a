import { str } from '@seqrec/config';

/**
 * Where the model store lives, for every process that reads or writes it (trainer, embedding,
 * scorer): one spec, so their defaults cannot drift apart (they did: the trainer's was
 * `model-store`, the others' `./models`, so a trainer and a scorer left at their defaults did not
 * share a store).
 */
export const modelStoreEnv = {
  MODEL_STORE_DIR: str({ default: './models', desc: 'root folder of the filesystem model store (versioned artifacts, CURRENT pointers), shared by the trainer, embedding and scorer' }),
};

/** Which model a serving process uses (embedding, scorer). */
export const servedModelEnv = {
  MODEL_NAME: str({ default: 'sasrec', desc: 'model whose promoted (CURRENT) version the service uses: the embedding service encodes windows with it, the scorer serves it' }),
};
