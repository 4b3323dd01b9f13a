import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Bus } from '@seqrec/bus';
import { TOPICS } from '@seqrec/contracts';
import { ClickstreamGenerator, recordToMessage } from '@seqrec/generator';
import type { Registry } from '@seqrec/metrics';
import { BUS, ITEM_DICTIONARY, METRICS_REGISTRY, SEQUENCE_STORE } from '@seqrec/nest-platform';
import { describeWindow, type ItemDictionary, type SequenceStore } from '@seqrec/window';

export const DEMO_OPTIONS = 'SEQREC_DEMO_OPTIONS';

export interface DemoOptions {
  eventsPerSec: number;
  users: number;
  items: number;
  reportSeconds: number;
  sessionGapMs: number;
}

/**
 * Embedded mode's quick start: feeds a generated clickstream (with producer retries and malformed
 * payloads, as real producers send) to the raw topic at a steady rate, and logs what the pipeline
 * is doing: counts by outcome and one user's live window.
 */
@Injectable()
export class DemoFeedService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('demo');
  private timers: NodeJS.Timeout[] = [];
  private sent = 0;
  private lastUser = '';

  constructor(
    @Inject(DEMO_OPTIONS) private readonly options: DemoOptions,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(SEQUENCE_STORE) private readonly store: SequenceStore,
    @Inject(ITEM_DICTIONARY) private readonly items: ItemDictionary,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  onApplicationBootstrap(): void {
    const { eventsPerSec, users, items } = this.options;
    if (eventsPerSec <= 0) return;
    const gen = new ClickstreamGenerator({ seed: Date.now() % 100_000, users, items, duplicateRate: 0.01, malformedRate: 0.005, startTime: Date.now() - 86_400_000 });
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
            this.lastUser = r.event.userId;
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
    for (const t of this.timers) clearInterval(t);
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
      const [buf] = await this.store.getMany([this.lastUser]);
      if (buf) {
        const w = await describeWindow(buf, this.items, this.options.sessionGapMs);
        const tail = w.events.slice(-5).map((e) => `${e.type}${e.itemId ? `:${e.itemId}` : ''}`).join(' → ');
        sample = ` | ${this.lastUser}: ${w.events.length} events (${buf.length} B), last: ${tail}`;
      }
    }
    this.log.log(`sent ${this.sent}, accepted ${accepted}, duplicates dropped ${dupes}, rejected to DLQ ${rejected}, applied ${applied}${sample}`);
  }
}
