import { Controller, Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS, parseItem } from '@seqrec/contracts';
import { CATALOGUE_STORE, type BusHandlerExtras } from '@seqrec/nest-platform';
import type { CatalogueStore } from '@seqrec/window';
import { CatalogueView } from './catalogue-view';

// Every scorer sees every change: one consumer group per instance. A new group starts at the
// beginning of the compacted topic (the whole catalogue); a restarted one where it stopped, over
// the store's snapshot read at start.
const EXTRAS: BusHandlerExtras = { group: GROUPS.SCORER_CATALOGUE, perInstance: true };

/**
 * Keeps the scorer's {@link CatalogueView} current: the catalogue store's snapshot at start, then
 * every change on the items topic (newer wins by the message's timestamp). Bad records are skipped
 * here (the catalogue consumer dead-letters them).
 */
@Controller()
export class CatalogueFeed implements OnApplicationBootstrap {
  private readonly log = new Logger(CatalogueFeed.name);

  constructor(
    private readonly view: CatalogueView,
    @Inject(CATALOGUE_STORE) private readonly store: CatalogueStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const t0 = performance.now();
    let bad = 0;
    await this.store.scan((page) => {
      for (const [id, record] of page) {
        try {
          this.view.putRecord(id, record);
        } catch {
          bad++;
        }
      }
    });
    this.log.log(`catalogue: ${this.view.size} items from the store in ${Math.round(performance.now() - t0)} ms${bad ? `, ${bad} unreadable records skipped` : ''}`);
  }

  @EventPattern(TOPICS.ITEMS, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch): Promise<void> {
    for (const m of batch.messages) {
      const key = m.key?.toString('utf8');
      if (key === undefined) continue;
      if (m.value === null) {
        this.view.remove(key, m.timestamp);
        continue;
      }
      const v = parseItem(m.value);
      if (v.ok && v.item.itemId === key) this.view.put({ ...v.item, updatedAt: m.timestamp });
    }
  }
}
