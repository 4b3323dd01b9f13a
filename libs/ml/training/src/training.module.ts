import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv, commonEnv } from '@seqrec/config';
import type { Registry } from '@seqrec/metrics';
import type { LossKind } from '@seqrec/model';
import { FsModelStore } from '@seqrec/model-store';
import { METRICS_REGISTRY } from '@seqrec/nest-platform';
import { parseKv } from './cli/args';
import type { TrainableModel } from './pipeline';
import { MODEL_STORE, TRAINING_METRICS, TRAINING_OPTIONS } from './training.constants';
import { TrainingController } from './training.controller';
import { TrainerDeletionsConsumer } from './deletions.consumer';
import type { trainingEnv } from './training.env';
import { createTrainingMetrics } from './training.metrics';
import { TrainingService, type TrainingServiceOptions } from './training.service';

export type TrainingEnv = CleanedEnv<typeof commonEnv & typeof trainingEnv>;

/** The trainer: on-demand and scheduled training runs, the model store, promotion announcements, the retraining after user deletions. */
@Module({})
export class TrainingModule {
  static register(env: TrainingEnv): DynamicModule {
    const problems: string[] = [];
    const architecture = parseKv(env.TRAIN_ARCH, 'TRAIN_ARCH', problems);
    const baseline = parseKv(env.TRAIN_PARAMS, 'TRAIN_PARAMS', problems);
    if (problems.length > 0) throw new RangeError(problems.join('; '));
    const options: TrainingServiceOptions = {
      model: env.TRAIN_MODEL as TrainableModel,
      intervalMinutes: env.TRAIN_INTERVAL_MINUTES,
      lookbackHours: env.TRAIN_LOOKBACK_HOURS,
      warmStart: env.TRAIN_WARM_START,
      runOnStart: env.TRAIN_RUN_ON_START,
      exitAfterRun: env.TRAIN_EXIT_AFTER_RUN,
      dataPath: env.TRAIN_DATA_PATH,
      dataFormat: env.TRAIN_DATA_FORMAT as TrainingServiceOptions['dataFormat'],
      options: {
        epochs: env.TRAIN_EPOCHS,
        batchSize: env.TRAIN_BATCH_SIZE,
        lr: env.TRAIN_LR,
        loss: env.TRAIN_LOSS as LossKind,
        maxLen: env.TRAIN_MAX_LEN,
        dim: env.TRAIN_DIM,
        seed: env.TRAIN_SEED,
        patience: env.TRAIN_PATIENCE,
        validUsers: env.TRAIN_VALID_USERS,
        minLength: env.TRAIN_MIN_LENGTH,
        ...(Object.keys(architecture).length ? { architecture } : {}),
        ...(Object.keys(baseline).length ? { baseline } : {}),
      },
      kafka: env.KAFKA_BROKERS
        ? { brokers: env.KAFKA_BROKERS.split(',').map((b) => b.trim()), namespace: env.KAFKA_NAMESPACE, ssl: env.KAFKA_SSL }
        : null,
      backend: env,
      isolation: env.TRAIN_ISOLATION as 'process' | 'inline',
      retrainAfterDeletionMinutes: env.TRAIN_AFTER_DELETION_MINUTES,
    };
    return {
      module: TrainingModule,
      controllers: [TrainingController, TrainerDeletionsConsumer],
      providers: [
        { provide: TRAINING_OPTIONS, useValue: options },
        { provide: MODEL_STORE, useValue: new FsModelStore(env.MODEL_STORE_DIR) },
        { provide: TRAINING_METRICS, inject: [METRICS_REGISTRY], useFactory: (r: Registry) => createTrainingMetrics(r) },
        TrainingService,
      ],
      exports: [TrainingService, MODEL_STORE],
    };
  }
}
