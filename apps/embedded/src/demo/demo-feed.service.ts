import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Bus } from '@seqrec/bus';
import { TOPICS, type ItemV1 } from '@seqrec/contracts';
import { ClickstreamGenerator, recordToMessage } from '@seqrec/generator';
import type { Registry } from '@seqrec/metrics';
import { BUS, ITEM_DICTIONARY, METRICS_REGISTRY, PSEUDONYMIZER, SEQUENCE_STORE, type Pseudonymizer } from '@seqrec/nest-platform';
import { TrainingService } from '@seqrec/training';
import { describeWindow, type ItemDictionary, type SequenceStore } from '@seqrec/window';

export const DEMO_OPTIONS = 'SEQREC_DEMO_OPTIONS';

export interface DemoOptions {
  eventsPerSec: number;
  /** Events of the past hour fed at start (with a feed on). */
  backfillEvents: number;
  /** Start a training run once the backfill is applied (with a feed on). */
  trainOnStart: boolean;
  /** Seed of the generated shop: the same catalogue, users and events on every start. */
  seed: number;
  users: number;
  items: number;
  reportSeconds: number;
  sessionGapMs: number;
}

/** Share of the demo's sessions that start anonymous and log in after a few events (their windows merge). */
const ANONYMOUS_SESSIONS = 0.2;

/**
 * Embedded mode's quick start: feeds a generated clickstream (with producer retries, malformed
 * payloads and anonymous sessions that log in, as real producers send) to the raw topic, first an hour's backfill at once and then at
 * a steady rate, starts the first training run once the backfill is applied (the trainer's schedule
 * takes over from there), and logs what the pipeline is doing: counts by outcome and one user's
 * live window.
 */
@Injectable()
export class DemoFeedService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('demo');
  private timers: NodeJS.Timeout[] = [];
  private sent = 0;
  private lastUser = '';
  private stopped = false;

  constructor(
    @Inject(DEMO_OPTIONS) private readonly options: DemoOptions,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(SEQUENCE_STORE) private readonly store: SequenceStore,
    @Inject(ITEM_DICTIONARY) private readonly items: ItemDictionary,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    private readonly training: TrainingService,
    @Inject(PSEUDONYMIZER) private readonly pseudonyms: Pseudonymizer,
  ) {}

  onApplicationBootstrap(): void {
    const { eventsPerSec, seed, users, items } = this.options;
    if (eventsPerSec <= 0) return;
    const gen = new ClickstreamGenerator({ seed, users, items, duplicateRate: 0.01, malformedRate: 0.005, anonymousSessionRate: ANONYMOUS_SESSIONS, startTime: Date.now() - 86_400_000 });
    void this.backfill(gen).catch((err: Error) => this.log.error(`backfill failed: ${err.message}`));
    const tickMs = 100;
    const perTick = Math.max(1, Math.round((eventsPerSec * tickMs) / 1000));
    this.log.log(`feeding ${eventsPerSec} generated events/s (${users} users, ${items} items) to ${TOPICS.CLICKSTREAM_RAW}`);
    this.timers.push(
      setInterval(() => {
        const records = gen.takeRecords(perTick);
        const now = Date.now();
        const msgs = records.map((r) => {
          if (r.kind !== 'malformed') {
            // live demo: stamp events now, keeping the generator's order and funnel
            r.event.ts = now - Math.floor(Math.random() * 1000);
            if (r.event.userId !== undefined) this.lastUser = r.event.userId;
          }
          return { topic: TOPICS.CLICKSTREAM_RAW, ...recordToMessage(r) };
        });
        this.sent += msgs.length;
        void this.bus.publish(msgs).catch((err: Error) => this.log.error(`publish failed: ${err.message}`));
      }, tickMs),
      setInterval(() => void this.report(), this.options.reportSeconds * 1000),
    );
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
  }

  /**
   * The generated shop's catalogue on the items topic (each item's category, `C<n>`), then an hour
   * of history, stamped over the past hour in the generator's order, then the first training run
   * (which fits the content map for new items from this catalogue).
   */
  private async backfill(gen: ClickstreamGenerator): Promise<void> {
    const { itemIds, categoryOf } = gen.catalogue;
    for (let i = 0; i < itemIds.length; i += 1_000) {
      await this.bus.publish(
        itemIds.slice(i, i + 1_000).map((itemId, j) => {
          const item: ItemV1 = { itemId, category: `C${categoryOf[i + j]}` };
          return { topic: TOPICS.ITEMS, key: itemId, value: JSON.stringify(item) };
        }),
      );
    }
    const total = this.options.backfillEvents;
    if (total > 0) {
      const records = gen.takeRecords(total);
      const t0 = Date.now() - 3_600_000;
      const step = 3_600_000 / records.length;
      for (let i = 0; i < records.length; i += 1_000) {
        const msgs = records.slice(i, i + 1_000).map((r, j) => {
          if (r.kind !== 'malformed') r.event.ts = Math.floor(t0 + (i + j) * step);
          return { topic: TOPICS.CLICKSTREAM_RAW, ...recordToMessage(r) };
        });
        this.sent += msgs.length;
        await this.bus.publish(msgs);
      }
      // applied once the builder has caught up with what the ingester accepted
      const deadline = Date.now() + 60_000;
      while (!this.stopped && Date.now() < deadline) {
        const accepted = await this.sum('seqrec_ingester_events_total', 'outcome', 'accepted');
        const built = await this.sum('seqrec_sequence_builder_events_total');
        if (accepted >= total * 0.9 && built >= accepted) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      this.log.log(`backfill of ${total} events applied`);
    }
    if (this.options.trainOnStart && !this.stopped) {
      try {
        this.training.start('schedule');
      } catch (err) {
        this.log.warn(`first training run not started: ${(err as Error).message}`);
      }
    }
  }

  /** A counter's total over the series with this label value (every series without one). */
  private async sum(name: string, label?: string, value?: string): Promise<number> {
    const metric = (await this.registry.getMetricsAsJSON()).find((m) => m.name === name);
    return (metric?.values ?? [])
      .filter((v) => label === undefined || (v.labels as Record<string, string>)[label] === value)
      .reduce((s, v) => s + Number(v.value), 0);
  }

  private async report(): Promise<void> {
    const metrics = await this.registry.getMetricsAsJSON();
    const sum = (name: string, label: string, value: string) =>
      (metrics.find((m) => m.name === name)?.values ?? [])
        .filter((v) => (v.labels as Record<string, string>)[label] === value)
        .reduce((s, v) => s + Number(v.value), 0);
    const accepted = sum('seqrec_ingester_events_total', 'outcome', 'accepted');
    const dupes = sum('seqrec_ingester_events_total', 'outcome', 'duplicate');
    const rejected = sum('seqrec_ingester_events_total', 'outcome', 'rejected');
    const applied = sum('seqrec_sequence_builder_events_total', 'outcome', 'applied');
    let sample = '';
    if (this.lastUser) {
      const [buf] = await this.store.getMany([this.pseudonyms.userId(this.lastUser)]);
      if (buf) {
        const w = await describeWindow(buf, this.items, this.options.sessionGapMs);
        const tail = w.events.slice(-5).map((e) => `${e.type}${e.itemId ? `:${e.itemId}` : ''}`).join(' → ');
        // a shopper's window, not who (no user id in any log line: docs/privacy.md)
        sample = ` | a shopper: ${w.events.length} events (${buf.length} B), last: ${tail}`;
      }
    }
    this.log.log(`sent ${this.sent}, accepted ${accepted}, duplicates dropped ${dupes}, rejected to DLQ ${rejected}, applied ${applied}${sample}`);
  }
}
