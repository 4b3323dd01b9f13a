import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS, parseUserDeletion, type ModelPromotedV1 } from '@seqrec/contracts';
import type { BusHandlerExtras } from '@seqrec/nest-platform';
import { EmbeddingService } from './embedding.service';

const UPDATES: BusHandlerExtras = { group: GROUPS.EMBEDDING, maxBatchSize: 2_000 };
// Every replica must reload on every announcement: its own group, from the end of the topic.
const MODELS: BusHandlerExtras = { group: `${GROUPS.EMBEDDING}-models`, perInstance: true, latest: true };
// The vectors are shared: one group, from the beginning of the compacted topic (replay-safe: see `forget`).
const DELETIONS: BusHandlerExtras = { group: GROUPS.EMBEDDING_DELETIONS };

/** Window updates in, user vectors out (batched); reloads the model on announcements; forgets deleted users' vectors. */
@Controller()
export class SequenceUpdatesConsumer {
  private readonly log = new Logger(SequenceUpdatesConsumer.name);

  constructor(private readonly embedding: EmbeddingService) {}

  @EventPattern(TOPICS.SEQUENCE_UPDATES, UPDATES)
  async onUpdates(@Payload() batch: ConsumedBatch): Promise<void> {
    const { updates, bad } = await this.embedding.decodeUpdates(batch.messages);
    if (bad > 0) this.log.warn(`skipping ${bad} unreadable window updates in ${batch.topic}/${batch.partition} up to @${batch.messages[batch.messages.length - 1]?.offset}`);
    await this.embedding.encodeUpdates(updates);
  }

  @EventPattern(TOPICS.USER_DELETIONS, DELETIONS)
  async onDeletions(@Payload() batch: ConsumedBatch): Promise<void> {
    let forgotten = 0;
    for (const m of batch.messages) {
      const d = parseUserDeletion(m.value, m.key?.toString('utf8') ?? null);
      if (d && (await this.embedding.forget(d))) forgotten++;
    }
    if (forgotten) this.log.log(`${forgotten} vectors of deleted users removed`);
  }

  @EventPattern(TOPICS.MODELS, MODELS)
  async onModels(@Payload() batch: ConsumedBatch): Promise<void> {
    let newest: ModelPromotedV1 | null = null;
    for (const m of batch.messages) {
      try {
        const a = JSON.parse(m.value?.toString('utf8') ?? '') as ModelPromotedV1;
        if (a?.model === this.embedding.options.modelName && (!newest || a.promotedAt >= newest.promotedAt)) newest = a;
      } catch {
        this.log.warn(`ignoring an unreadable announcement at ${m.topic}/${m.partition}@${m.offset}`);
      }
    }
    if (newest) {
      await this.embedding.load(newest.version).catch((err: Error) => this.log.error(`cannot load ${newest.model}@${newest.version}: ${err.message}`));
    }
  }
}
