import { Controller, Inject, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS, jsonObject, parseImpression, parseUserDeletion, type ImpressionV1 } from '@seqrec/contracts';
import { ATTRIBUTION_SKEW_MS, FEEDBACK_TYPES, type ExperimentRecord, type Feedback, type FeedbackType, type ImpressionRecord } from '@seqrec/experiments';
import type { BusHandlerExtras } from '@seqrec/nest-platform';
import { CatalogueView } from '../catalogue-view';
import { EXPERIMENT_METRICS } from './experiments.constants';
import { countOutcome, type ExperimentMetrics } from './experiment.metrics';
import { ExperimentsService, subjectKey } from './experiments.service';
import { ShadowScoring } from './shadow.service';

const IMPRESSIONS: BusHandlerExtras = { group: GROUPS.EXPERIMENT_IMPRESSIONS };
// From the beginning, not the end: a new group's partitions can move between replicas before the
// first commit, and a member starting "at the end" would then skip what came in between. Events
// older than the experiment are skipped by their Kafka timestamp, unparsed.
const FEEDBACK: BusHandlerExtras = { group: GROUPS.EXPERIMENT_FEEDBACK };
const DELETIONS: BusHandlerExtras = { group: GROUPS.EXPERIMENT_DELETIONS };
const FEEDBACK_SET: ReadonlySet<string> = new Set(FEEDBACK_TYPES);
/** How long the experiment records are reused by the join before being read again, ms. */
const RECORDS_TTL_MS = 2_000;

/**
 * The feedback join (docs/experiments.md): counts each impression of the impressions topic once
 * (and hands it to the shadow model when the experiment has one),
 * joins each click, cart and purchase of the events topic to the impression it follows (by its
 * `context.requestId`, or by subject and item within the attribution window), and erases deleted
 * users' impressions. Shared by the scorer replicas (one group each): every write is idempotent in
 * the experiment store, so a redelivered batch counts nothing twice, and the Prometheus counters are
 * only moved by a first application.
 */
@Controller()
export class ExperimentsConsumer {
  private readonly log = new Logger('ExperimentJoin');
  private records: { at: number; byId: Map<string, ExperimentRecord> } | null = null;

  constructor(
    private readonly experiments: ExperimentsService,
    private readonly catalogue: CatalogueView,
    private readonly shadow: ShadowScoring,
    @Inject(EXPERIMENT_METRICS) private readonly metrics: ExperimentMetrics,
  ) {}

  private async record(id: string): Promise<ExperimentRecord | undefined> {
    const now = Date.now();
    if (!this.records || now - this.records.at > RECORDS_TTL_MS || !this.records.byId.has(id)) {
      const all = await this.experiments.store.history();
      this.records = { at: now, byId: new Map(all.map((r) => [r.config.id, r])) };
    }
    return this.records.byId.get(id);
  }

  @EventPattern(TOPICS.IMPRESSIONS, IMPRESSIONS)
  async onImpressions(@Payload() batch: ConsumedBatch): Promise<void> {
    // by experiment, in order: one store round trip per experiment per batch
    const byExperiment = new Map<string, { records: ImpressionRecord[]; impressions: ImpressionV1[] }>();
    for (const m of batch.messages) {
      const imp = parseImpression(m.value);
      if (!imp) {
        this.log.warn(`ignoring an unreadable impression at ${m.topic}/${m.partition}@${m.offset}`);
        continue;
      }
      const subject = subjectKey(imp.userId !== undefined ? { kind: 'user', id: imp.userId } : { kind: 'session', id: imp.sessionId! });
      const list = byExperiment.get(imp.experiment) ?? { records: [], impressions: [] };
      list.records.push({ requestId: imp.requestId, variant: imp.variant, subject, items: imp.items, ts: imp.ts });
      list.impressions.push(imp);
      byExperiment.set(imp.experiment, list);
    }
    for (const [experiment, { records: imps, impressions }] of byExperiment) {
      const record = await this.record(experiment);
      if (!record) continue;
      const results = await this.experiments.store.recordImpressions(experiment, imps, this.experiments.joinSettings(record));
      const first: ImpressionV1[] = [];
      results.forEach((r, i) => {
        if (!r.counted) return;
        first.push(impressions[i]!);
        this.metrics.impressions.inc({ experiment, variant: imps[i]!.variant });
        for (const o of r.joined) countOutcome(this.metrics, experiment, o, o.status === 'joined' ? o.type : 'click');
      });
      // the shadow scores each impression once (a redelivered one was counted already)
      this.shadow.offer(first, record.config);
    }
  }

  @EventPattern(TOPICS.EVENTS, FEEDBACK)
  async onEvents(@Payload() batch: ConsumedBatch): Promise<void> {
    // nothing to join while no experiment runs: the events are not even parsed
    const record = await this.experiments.store.active();
    if (!record) return;
    const id = record.config.id;
    const since = record.startedAt - ATTRIBUTION_SKEW_MS;
    const fbs: Feedback[] = [];
    for (const m of batch.messages) {
      if (m.timestamp > 0 && m.timestamp < since) continue;
      const fb = this.feedback(m.value);
      if (fb) fbs.push(fb);
    }
    const outcomes = await this.experiments.store.recordFeedbacks(id, fbs, this.experiments.joinSettings(record));
    outcomes.forEach((o, i) => countOutcome(this.metrics, id, o, fbs[i]!.type));
  }

  @EventPattern(TOPICS.USER_DELETIONS, DELETIONS)
  async onDeletions(@Payload() batch: ConsumedBatch): Promise<void> {
    for (const m of batch.messages) {
      const d = parseUserDeletion(m.value, m.key?.toString('utf8') ?? null);
      if (d) await this.experiments.store.eraseSubject(subjectKey({ kind: 'user', id: d.userId }));
    }
  }

  /** A click, cart or purchase of an item, as the join needs it; null for any other event. */
  private feedback(value: Buffer | null): Feedback | null {
    const e = jsonObject(value);
    if (e === null || !FEEDBACK_SET.has(e.type as string) || typeof e.itemId !== 'string' || typeof e.eventId !== 'string') return null;
    const subject = typeof e.userId === 'string' ? subjectKey({ kind: 'user', id: e.userId }) : typeof e.sessionId === 'string' ? subjectKey({ kind: 'session', id: e.sessionId }) : null;
    if (!subject) return null;
    const context = typeof e.context === 'object' && e.context !== null ? (e.context as Record<string, unknown>) : {};
    const requestId = typeof context.requestId === 'string' && context.requestId.length > 0 && context.requestId.length <= 128 ? context.requestId : undefined;
    const type = e.type as FeedbackType;
    return {
      eventId: e.eventId,
      type,
      subject,
      itemId: e.itemId,
      ...(requestId ? { requestId } : {}),
      revenue: type === 'purchase' ? this.revenue(e.itemId, context) : 0,
      ts: typeof e.ts === 'number' ? e.ts : Date.now(),
    };
  }

  /** A purchase's revenue: `context.revenue`, else (`context.price` or the catalogue's price) × `context.quantity` (default 1), else 0. */
  private revenue(itemId: string, context: Record<string, unknown>): number {
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1e9 ? v : undefined);
    const given = num(context.revenue);
    if (given !== undefined) return given;
    const quantity = num(context.quantity) ?? 1;
    const price = num(context.price) ?? this.catalogue.priceOf(itemId);
    return price === undefined ? 0 : price * quantity;
  }
}
