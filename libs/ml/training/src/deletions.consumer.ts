import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS, parseUserDeletion } from '@seqrec/contracts';
import type { BusHandlerExtras } from '@seqrec/nest-platform';
import { TrainingService } from './training.service';

// One trainer, one model store: one group, from the beginning of the compacted topic (recording a
// deletion the store has is a no-op; the retraining it schedules is the one the replay needs anyway).
const EXTRAS: BusHandlerExtras = { group: GROUPS.TRAINER_DELETIONS };

/** User deletions → the model store's deletion time and a retraining that forgets the users (docs/privacy.md). */
@Controller()
export class TrainerDeletionsConsumer {
  private readonly log = new Logger(TrainerDeletionsConsumer.name);
  /** The latest deletion this process scheduled a retraining for (a replay of old records schedules nothing new). */
  private handled = 0;

  constructor(private readonly training: TrainingService) {}

  @EventPattern(TOPICS.USER_DELETIONS, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch): Promise<void> {
    let latest: number | null = null;
    let bad = 0;
    for (const m of batch.messages) {
      const d = parseUserDeletion(m.value, m.key?.toString('utf8') ?? null);
      if (!d) bad++;
      else if (latest === null || d.at > latest) latest = d.at;
    }
    if (bad) this.log.warn(`${bad} records of ${batch.topic}/${batch.partition} are not user deletions: skipped`);
    if (latest === null || latest <= this.handled) return;
    this.handled = latest;
    await this.training.deletionRecorded(latest);
  }
}
