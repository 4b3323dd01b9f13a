import { num } from '@seqrec/config';

export const demoEnv = {
  DEMO_EVENTS_PER_SEC: num({ default: 0, desc: 'embedded mode: generated clickstream events per second fed to the raw topic; 0: none' }),
  DEMO_USERS: num({ default: 2_000, desc: 'embedded mode: users of the generated clickstream' }),
  DEMO_ITEMS: num({ default: 5_000, desc: 'embedded mode: catalogue size of the generated clickstream' }),
  DEMO_REPORT_SECONDS: num({ default: 5, desc: 'embedded mode: seconds between status lines' }),
};
