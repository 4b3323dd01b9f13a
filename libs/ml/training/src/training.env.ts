import { bool, num, str, whole } from '@seqrec/config';
import { LOSS_KINDS, backendEnv } from '@seqrec/model';
import { modelStoreEnv } from '@seqrec/model-store';
import { TRAINABLE_MODELS } from './pipeline';

/** The trainer's variables (validated at start-up with the common ones). */
export const trainingEnv = {
  ...backendEnv,
  ...modelStoreEnv,
  TRAIN_MODEL: str({ choices: [...TRAINABLE_MODELS], default: 'sasrec', desc: 'model kind trained by scheduled and on-demand runs' }),
  TRAIN_INTERVAL_MINUTES: num({ default: 0, desc: 'retrain every this many minutes; 0: only on demand (POST /v1/train)' }),
  TRAIN_EPOCHS: num({ default: 20, desc: 'maximum epochs per run (early stopping on validation NDCG@10)' }),
  TRAIN_BATCH_SIZE: num({ default: 128, desc: 'sequences per training step' }),
  TRAIN_LR: num({ default: 0.001, desc: 'Adam learning rate' }),
  TRAIN_LOSS: str({ choices: [...LOSS_KINDS], default: 'softmax', desc: 'next-item loss' }),
  TRAIN_MAX_LEN: num({ default: 50, desc: 'longest history the model reads' }),
  TRAIN_DIM: num({ default: 64, desc: 'embedding width' }),
  TRAIN_ARCH: str({ default: '', desc: 'architecture options key=value,... as the CLI --arch (e.g. blocks=2,heads=1,dropout=0.1,layout=sasrec,init=normal)' }),
  TRAIN_PARAMS: str({ default: '', desc: 'baseline parameters key=value,... as the CLI --params (e.g. neighbours=100 for itemknn)' }),
  TRAIN_SEED: num({ default: 42, desc: 'seed of initialisation, shuffling, sampling' }),
  TRAIN_PATIENCE: num({ default: 3, desc: 'validations without improvement before stopping' }),
  TRAIN_VALID_USERS: num({ default: 0, desc: 'validation cases sampled for early stopping (0: all)' }),
  TRAIN_LOOKBACK_HOURS: num({ default: 0, desc: 'replay this many hours of the events topic; 0: everything retained' }),
  TRAIN_AFTER_DELETION_MINUTES: whole({
    default: 0,
    desc: 'a user deletion (the deletions topic) starts the retraining that forgets the user this many minutes later (deletions meanwhile share it); 0: at once (docs/privacy.md)',
  }),
  TRAIN_WARM_START: bool({ default: true, desc: 'start from the promoted version when its vocabulary matches' }),
  TRAIN_DATA_PATH: str({ default: '', desc: 'train from this dataset file instead of replaying the events topic' }),
  TRAIN_DATA_FORMAT: str({ choices: ['auto', 'sasrec', 's3rec', 'taobao', 'yoochoose'], default: 'auto', desc: 'format of TRAIN_DATA_PATH' }),
  TRAIN_RUN_ON_START: bool({ default: false, desc: 'start a run as soon as the service is up (job mode, with TRAIN_EXIT_AFTER_RUN)' }),
  TRAIN_EXIT_AFTER_RUN: bool({ default: false, desc: 'exit after the first run: 0 when it succeeded, 1 when it failed (a Kubernetes Job / CronJob)' }),
  TRAIN_ISOLATION: str({
    choices: ['process', 'inline'],
    default: 'process',
    desc: 'process: each run in a child process, so TensorFlow kernels never block the service\'s event loop (its API; the scorer in embedded mode); inline: on the service\'s event loop',
  }),
  TRAIN_MIN_LENGTH: num({ default: 3, desc: 'leave-one-out: users with fewer items get no evaluation case' }),
};
