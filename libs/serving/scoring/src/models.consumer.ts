import { Controller, Inject, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS, type ModelPromotedV1 } from '@seqrec/contracts';
import type { BusHandlerExtras } from '@seqrec/nest-platform';
import { ModelLoader } from './model-loader.service';
import { SCORING_OPTIONS } from './scoring.constants';
import type { ScoringOptions } from './scoring.service';

// Every scorer replica must see every announcement: one consumer group per instance, starting at
// the end of the topic (the CURRENT pointer read at start covers what came before).
const EXTRAS: BusHandlerExtras = { group: GROUPS.SCORER, perInstance: true, latest: true };

/** Hot-swaps the served model when the models topic announces a promoted version of it. */
@Controller()
export class ModelsConsumer {
  private readonly log = new Logger(ModelsConsumer.name);

  constructor(
    private readonly loader: ModelLoader,
    @Inject(SCORING_OPTIONS) private readonly options: ScoringOptions,
  ) {}

  @EventPattern(TOPICS.MODELS, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch): Promise<void> {
    let newest: ModelPromotedV1 | null = null;
    for (const m of batch.messages) {
      try {
        const a = JSON.parse(m.value?.toString('utf8') ?? '') as ModelPromotedV1;
        if (a?.model === this.options.modelName && typeof a.version === 'string' && (!newest || a.promotedAt >= newest.promotedAt)) newest = a;
      } catch {
        this.log.warn(`ignoring an unreadable announcement at ${m.topic}/${m.partition}@${m.offset}`);
      }
    }
    if (!newest) return;
    try {
      await this.loader.load(newest.version);
    } catch (err) {
      // A version that cannot be loaded must not stop the consumer; the served model stays.
      this.log.error(`cannot load announced ${newest.model}@${newest.version}: ${(err as Error).message}`);
    }
  }
}
