import { bool, num, sessionEnv } from '@seqrec/config';

/** The sequence-builder's variables. */
export const sequencingEnv = {
  SEQUENCE_LENGTH: num({ default: 50, desc: 'events kept per user (the window N)' }),
  ...sessionEnv,
  SEQUENCE_UPDATES_ENABLED: bool({ default: true, desc: 'emit the updated window on the sequence-updates topic' }),
};
