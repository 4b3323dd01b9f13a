import { commonEnv, type CleanedEnv } from '@seqrec/config';

export type PlatformEnv = CleanedEnv<typeof commonEnv>;
