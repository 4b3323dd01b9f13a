import { Controller, Inject, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS, parseUserDeletion } from '@seqrec/contracts';
import { SEQUENCE_STORE, type BusHandlerExtras } from '@seqrec/nest-platform';
import type { SequenceStore } from '@seqrec/window';
import { SEQUENCING_METRICS } from './sequencing.constants';
import type { SequencingMetrics } from './sequencing.metrics';

// One group for the whole service: the erasure is in the shared store, applied once is enough. A
// new group starts at the beginning of the compacted topic (every deletion); `erase` skips the
// ones the store has, and the ones older than a marker's lifetime.
const EXTRAS: BusHandlerExtras = { group: GROUPS.DELETIONS };

/**
 * Applies the deletions topic to the state store (docs/privacy.md): every record erases its user's
 * window, vector, sessions and their links and sets the deletion marker that keeps events stamped
 * before it out of the window. The ingester erases at once when it records a deletion; this is the
 * durable path (the ingester crashed between publishing and erasing, a store rebuilt from Kafka).
 */
@Controller()
export class DeletionsConsumer {
  private readonly log = new Logger(DeletionsConsumer.name);

  constructor(
    @Inject(SEQUENCE_STORE) private readonly store: SequenceStore,
    @Inject(SEQUENCING_METRICS) private readonly metrics: SequencingMetrics,
  ) {}

  @EventPattern(TOPICS.USER_DELETIONS, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch): Promise<void> {
    let applied = 0;
    let keys = 0;
    for (const m of batch.messages) {
      const d = parseUserDeletion(m.value, m.key?.toString('utf8') ?? null);
      if (!d) {
        this.metrics.erasures.inc({ outcome: 'invalid' });
        this.log.warn(`not a user deletion at ${m.topic}/${m.partition}@${m.offset}: skipped`);
        continue;
      }
      const r = await this.store.erase(d);
      this.metrics.erasures.inc({ outcome: r.applied ? 'applied' : 'covered' });
      if (r.applied) applied++;
      keys += r.keys;
    }
    if (applied > 0) this.log.log(`${applied} user deletions applied: ${keys} keys erased`);
  }
}
