import { bool, num, str } from '@seqrec/config';

export const demoEnv = {
  DEMO_EVENTS_PER_SEC: num({ default: 0, desc: 'embedded mode: generated clickstream events per second fed to the raw topic; 0: none' }),
  DEMO_BACKFILL_EVENTS: num({
    default: 30_000,
    desc: 'embedded mode: generated events of the past hour fed at start (with a feed on), so the first model has data to learn from',
  }),
  DEMO_TRAIN_ON_START: bool({ default: true, desc: 'embedded mode: start a training run once the backfill is applied (with a feed on)' }),
  DEMO_SEED: num({
    default: 42,
    desc: "embedded mode: seed of the generated shop (catalogue, users, events): the same shop on every start, so the README's item ids exist (i02110 is seed 42's most popular item)",
  }),
  DEMO_USERS: num({ default: 2_000, desc: 'embedded mode: users of the generated clickstream' }),
  DEMO_ITEMS: num({ default: 5_000, desc: 'embedded mode: catalogue size of the generated clickstream' }),
  DEMO_REPORT_SECONDS: num({ default: 5, desc: 'embedded mode: seconds between status lines' }),
};

/**
 * Embedded mode's own defaults of other services' variables (the specs replace theirs in its env): a
 * small SASRec retrained every few minutes on the live in-memory events, promoted only when better,
 * and the operator console on.
 */
export const embeddedDefaults = {
  TRAIN_INTERVAL_MINUTES: num({ default: 3, desc: 'retrain every this many minutes; 0: only on demand (POST /v1/train)' }),
  TRAIN_EPOCHS: num({ default: 8, desc: 'maximum epochs per run (early stopping on validation NDCG@10)' }),
  TRAIN_DIM: num({ default: 32, desc: 'embedding width' }),
  TRAIN_MAX_LEN: num({ default: 30, desc: 'longest history the model reads' }),
  TRAIN_ARCH: str({ default: 'blocks=1,heads=1', desc: 'architecture options key=value,... as the CLI --arch' }),
  TRAIN_VALID_USERS: num({ default: 500, desc: 'validation cases sampled for early stopping (0: all)' }),
  TRAIN_LOOKBACK_HOURS: num({ default: 6, desc: 'train on this many hours of the in-memory events; 0: everything since start' }),
  CONSOLE_ENABLED: bool({ default: true, desc: 'serve the operator console at /console/ (npm start: on; the scorer\'s default is off)' }),
};
