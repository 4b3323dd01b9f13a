import { Module, type DynamicModule } from '@nestjs/common';
import type { CleanedEnv } from '@seqrec/config';
import type { Registry } from '@seqrec/metrics';
import { CATALOGUE_STORE, ITEM_DICTIONARY, METRICS_REGISTRY, SEQUENCE_STORE } from '@seqrec/nest-platform';
import { SequenceApplier, type CatalogueStore, type ItemDictionary, type SequenceStore } from '@seqrec/window';
import { DeletionsConsumer } from './deletions.consumer';
import { ItemCategories } from './item-categories';
import { SequenceBuilderConsumer } from './sequence-builder.consumer';
import { SequenceController } from './sequence.controller';
import { SEQUENCING_METRICS, SEQUENCING_OPTIONS } from './sequencing.constants';
import type { sequencingEnv } from './sequencing.env';
import { createSequencingMetrics } from './sequencing.metrics';

/** The sequence-builder: events topic consumer keeping each user's live window in the state store; the deletions topic's eraser. */
@Module({})
export class SequencingModule {
  static register(env: CleanedEnv<typeof sequencingEnv>): DynamicModule {
    const sessionGapMs = env.SESSION_GAP_MINUTES * 60_000;
    return {
      module: SequencingModule,
      controllers: [SequenceBuilderConsumer, SequenceController, DeletionsConsumer],
      providers: [
        { provide: SEQUENCING_OPTIONS, useValue: { emitUpdates: env.SEQUENCE_UPDATES_ENABLED, sessionGapMs } },
        { provide: SEQUENCING_METRICS, inject: [METRICS_REGISTRY], useFactory: (r: Registry) => createSequencingMetrics(r) },
        { provide: ItemCategories, inject: [CATALOGUE_STORE], useFactory: (store: CatalogueStore) => new ItemCategories(store) },
        {
          provide: SequenceApplier,
          inject: [SEQUENCE_STORE, ITEM_DICTIONARY],
          useFactory: (store: SequenceStore, items: ItemDictionary) =>
            new SequenceApplier(store, items, { capacity: env.SEQUENCE_LENGTH, sessionGapMs }),
        },
      ],
    };
  }
}
