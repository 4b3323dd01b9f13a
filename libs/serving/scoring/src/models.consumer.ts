import { Controller, Inject, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS, type ModelPromotedV1 } from '@seqrec/contracts';
import type { BusHandlerExtras } from '@seqrec/nest-platform';
import { ExperimentsService } from './experiments/experiments.service';
import { ModelLoader } from './model-loader.service';
import { SCORING_OPTIONS } from './scoring.constants';
import type { ScoringOptions } from './scoring.service';

// Every scorer replica must see every announcement: one consumer group per instance, starting at
// the end of the topic (the CURRENT pointer read at start covers what came before).
const EXTRAS: BusHandlerExtras = { group: GROUPS.SCORER, perInstance: true, latest: true };

/**
 * Hot-swaps the served model when the models topic announces a promoted version of it, and moves an
 * experiment's variants and shadow that follow a model by name (no version) to its promoted version.
 */
@Controller()
export class ModelsConsumer {
  private readonly log = new Logger(ModelsConsumer.name);

  constructor(
    private readonly loader: ModelLoader,
    private readonly experiments: ExperimentsService,
    @Inject(SCORING_OPTIONS) private readonly options: ScoringOptions,
  ) {}

  @EventPattern(TOPICS.MODELS, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch): Promise<void> {
    // the newest announcement of each model in the batch
    const newest = new Map<string, ModelPromotedV1>();
    for (const m of batch.messages) {
      try {
        const a = JSON.parse(m.value?.toString('utf8') ?? '') as ModelPromotedV1;
        if (typeof a?.model !== 'string' || typeof a.version !== 'string') continue;
        const had = newest.get(a.model);
        if (!had || a.promotedAt >= had.promotedAt) newest.set(a.model, a);
      } catch {
        this.log.warn(`ignoring an unreadable announcement at ${m.topic}/${m.partition}@${m.offset}`);
      }
    }
    for (const a of newest.values()) {
      try {
        if (a.model === this.options.modelName) await this.loader.load(a.version);
        // an experiment's model followed by name (it reads the model's CURRENT pointer itself)
        await this.experiments.refreshFollowed(a.model);
      } catch (err) {
        // A version that cannot be loaded must not stop the consumer; the served model stays.
        this.log.error(`cannot load announced ${a.model}@${a.version}: ${(err as Error).message}`);
      }
    }
  }
}
