/**
 * A small generated shop for tests of the embedded process (`npm start`'s platform, in process or
 * as a process): a light live feed over a backfill that a 3-epoch SASRec learns from in seconds,
 * and no scheduled retraining (the test decides when a model changes).
 */
export const SMALL_EMBEDDED_ENV: Readonly<Record<string, string>> = Object.freeze({
  DEMO_EVENTS_PER_SEC: '50',
  DEMO_BACKFILL_EVENTS: '6000',
  DEMO_USERS: '300',
  DEMO_ITEMS: '400',
  DEMO_REPORT_SECONDS: '600',
  TRAIN_INTERVAL_MINUTES: '0',
  TRAIN_EPOCHS: '3',
  TRAIN_DIM: '16',
  TRAIN_MAX_LEN: '20',
  TRAIN_VALID_USERS: '100',
});
