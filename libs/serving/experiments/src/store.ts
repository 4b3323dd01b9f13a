import type { ExperimentConfig } from './config';
import { EMPTY_COUNTS, type VariantCounts } from './report';

/** An experiment as the store keeps it: its config, when it started and, once stopped, when. */
export interface ExperimentRecord {
  config: ExperimentConfig;
  startedAt: number;
  stoppedAt?: number;
}

/** Counts of one variant, with add-to-cart events (not a report metric, shown beside it). */
export interface StoredCounts extends VariantCounts {
  carts: number;
}

export const EMPTY_STORED_COUNTS: Readonly<StoredCounts> = Object.freeze({ ...EMPTY_COUNTS, carts: 0 });

/** The part of an impression the join keeps (the subject: `u:<user id>` or `s:<session id>`). */
export interface ImpressionRecord {
  requestId: string;
  variant: string;
  subject: string;
  /** Items in the order shown (only the first {@link KEPT_POSITIONS} are kept). */
  items: readonly string[];
  ts: number;
}

export const FEEDBACK_TYPES = ['click', 'add_to_cart', 'purchase'] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

/** A click, cart or purchase from the events topic, to be joined to an impression. */
export interface Feedback {
  eventId: string;
  type: FeedbackType;
  subject: string;
  itemId: string;
  /** The answer the shopper acted on (`context.requestId`), when the shop passes it back. */
  requestId?: string;
  /** A purchase's revenue (0 when unknown). */
  revenue: number;
  ts: number;
}

/** What joining one piece of feedback did. `joined` counts; the others count nothing. */
export type FeedbackOutcome =
  | {
      status: 'joined';
      type: FeedbackType;
      variant: string;
      /** 1-based position of the item in the impression. */
      position: number;
      attribution: 'request_id' | 'subject_item';
      /** The impression became clicked in its top K with this event (CTR@K). */
      newlyClicked: boolean;
      /** The impression became converted with this event. */
      newlyConverted: boolean;
      revenue: number;
    }
  /** Seen before (a redelivery): nothing counted again. */
  | { status: 'duplicate' }
  /** Names a request whose impression has not arrived yet: kept and joined when it does. */
  | { status: 'pending' }
  /** No impression of the subject within the window showed the item. */
  | { status: 'unattributed' };

/** Positions kept per impression: a click further down is not attributed. */
export const KEPT_POSITIONS = 200;
/** Impressions kept per subject for attribution by subject and item (newest). */
export const KEPT_PER_SUBJECT = 50;
/** Clock skew allowed between the scorer stamping an impression and the shop stamping the event, ms. */
export const ATTRIBUTION_SKEW_MS = 60_000;

export interface JoinSettings {
  /** CTR@K's K. */
  k: number;
  /** How long an impression, its pending feedback and the de-duplication of events are kept, ms. */
  ttlMs: number;
  now: number;
}

/**
 * Experiments' state: the active experiment and the history, and the feedback join (impressions,
 * the events attributed to them, per-variant counts). Every write is idempotent: an impression
 * counts once per request id, a piece of feedback once per event id, so a consumer replaying its
 * batch after a crash counts nothing twice. Two implementations with the same contract tests: in
 * memory (the embedded platform) and Redis (the services; one slot per experiment, Lua scripts).
 */
export interface ExperimentStore {
  active(): Promise<ExperimentRecord | null>;
  /** Makes `config` the active experiment (the one active before is stopped); an id used before continues its counts. */
  start(config: ExperimentConfig, now: number): Promise<ExperimentRecord>;
  /** Stops the active experiment when it is `id`; false when it was not active. */
  stop(id: string, now: number): Promise<boolean>;
  /** Every experiment started, newest first. */
  history(): Promise<ExperimentRecord[]>;
  /** Counts an impression once; returns whether it was new and the pending feedback it joined. */
  recordImpression(experiment: string, imp: ImpressionRecord, s: JoinSettings): Promise<{ counted: boolean; joined: FeedbackOutcome[] }>;
  recordFeedback(experiment: string, fb: Feedback, s: JoinSettings): Promise<FeedbackOutcome>;
  /** Many impressions in order, as one round trip where the store allows (the same outcomes as one by one). */
  recordImpressions(experiment: string, imps: readonly ImpressionRecord[], s: JoinSettings): Promise<Array<{ counted: boolean; joined: FeedbackOutcome[] }>>;
  /** Many pieces of feedback in order, as one round trip where the store allows (the same outcomes as one by one). */
  recordFeedbacks(experiment: string, fbs: readonly Feedback[], s: JoinSettings): Promise<FeedbackOutcome[]>;
  counts(experiment: string): Promise<Record<string, StoredCounts>>;
  /** The running minimum of each comparison's p-value over the report's looks (`variant:metric`). */
  looks(experiment: string): Promise<Record<string, number>>;
  recordLooks(experiment: string, p: Record<string, number>): Promise<Record<string, number>>;
  /**
   * Erases a subject's impressions (and the feedback pending on them) from every experiment (a user
   * deletion); the aggregate counts stay. Feedback naming a request whose impression never arrived
   * expires with the attribution window.
   */
  eraseSubject(subject: string): Promise<number>;
}

/** Applies one piece of feedback to an impression (mutating it and the counts): the rule both stores follow. */
export function applyFeedback(
  imp: { variant: string; positions: ReadonlyMap<string, number>; clicked: boolean; converted: boolean; revenue: number },
  fb: Feedback,
  counts: StoredCounts,
  k: number,
  attribution: 'request_id' | 'subject_item',
): FeedbackOutcome {
  const position = imp.positions.get(fb.itemId);
  if (position === undefined) return { status: 'unattributed' };
  let newlyClicked = false;
  let newlyConverted = false;
  let revenue = 0;
  if (fb.type === 'click') {
    counts.clicks += 1;
    counts.clickPositionSum += position;
    if (position <= k && !imp.clicked) {
      imp.clicked = true;
      newlyClicked = true;
      counts.clickedImpressions += 1;
    }
  } else if (fb.type === 'add_to_cart') {
    counts.carts += 1;
  } else {
    if (!imp.converted) {
      imp.converted = true;
      newlyConverted = true;
      counts.convertedImpressions += 1;
    }
    revenue = fb.revenue;
    const before = imp.revenue;
    imp.revenue = before + revenue;
    counts.revenue += revenue;
    counts.revenueSq += imp.revenue * imp.revenue - before * before;
  }
  return { status: 'joined', type: fb.type, variant: imp.variant, position, attribution, newlyClicked, newlyConverted, revenue };
}

interface MemoryImpression {
  variant: string;
  subject: string;
  ts: number;
  positions: Map<string, number>;
  clicked: boolean;
  converted: boolean;
  revenue: number;
  expires: number;
}

interface MemoryExperiment {
  impressions: Map<string, MemoryImpression>;
  subjects: Map<string, string[]>;
  seen: Map<string, number>;
  pending: Map<string, { items: Feedback[]; expires: number }>;
  counts: Map<string, StoredCounts>;
  looks: Record<string, number>;
}

/** The in-memory store (the embedded platform, unit tests). Expired entries are dropped as they are met. */
export class MemoryExperimentStore implements ExperimentStore {
  private current: ExperimentRecord | null = null;
  private readonly records = new Map<string, ExperimentRecord>();
  private readonly experiments = new Map<string, MemoryExperiment>();

  async active(): Promise<ExperimentRecord | null> {
    return this.current && structuredClone(this.current);
  }

  async start(config: ExperimentConfig, now: number): Promise<ExperimentRecord> {
    if (this.current && this.current.config.id !== config.id) this.records.set(this.current.config.id, { ...this.current, stoppedAt: now });
    const startedAt = this.records.get(config.id)?.startedAt ?? now;
    this.current = { config: structuredClone(config), startedAt };
    this.records.set(config.id, this.current);
    return structuredClone(this.current);
  }

  async stop(id: string, now: number): Promise<boolean> {
    if (!this.current || this.current.config.id !== id) return false;
    this.records.set(id, { ...this.current, stoppedAt: now });
    this.current = null;
    return true;
  }

  async history(): Promise<ExperimentRecord[]> {
    return [...this.records.values()].sort((a, b) => b.startedAt - a.startedAt).map((r) => structuredClone(r));
  }

  private state(id: string): MemoryExperiment {
    let x = this.experiments.get(id);
    if (!x) {
      x = { impressions: new Map(), subjects: new Map(), seen: new Map(), pending: new Map(), counts: new Map(), looks: {} };
      this.experiments.set(id, x);
    }
    return x;
  }

  private countsOf(x: MemoryExperiment, variant: string): StoredCounts {
    let c = x.counts.get(variant);
    if (!c) x.counts.set(variant, (c = { ...EMPTY_STORED_COUNTS }));
    return c;
  }

  async recordImpression(experiment: string, imp: ImpressionRecord, s: JoinSettings): Promise<{ counted: boolean; joined: FeedbackOutcome[] }> {
    const x = this.state(experiment);
    const old = x.impressions.get(imp.requestId);
    if (old && old.expires > s.now) return { counted: false, joined: [] };
    const positions = new Map<string, number>();
    imp.items.slice(0, KEPT_POSITIONS).forEach((item, i) => {
      if (!positions.has(item)) positions.set(item, i + 1);
    });
    const m: MemoryImpression = { variant: imp.variant, subject: imp.subject, ts: imp.ts, positions, clicked: false, converted: false, revenue: 0, expires: s.now + s.ttlMs };
    x.impressions.set(imp.requestId, m);
    const list = (x.subjects.get(imp.subject) ?? []).filter((rid) => (x.impressions.get(rid)?.expires ?? 0) > s.now);
    list.push(imp.requestId);
    x.subjects.set(imp.subject, list.slice(-KEPT_PER_SUBJECT));
    const counts = this.countsOf(x, imp.variant);
    counts.impressions += 1;
    const pending = x.pending.get(imp.requestId);
    x.pending.delete(imp.requestId);
    const joined = pending && pending.expires > s.now ? pending.items.filter((fb) => fb.subject === imp.subject).map((fb) => applyFeedback(m, fb, counts, s.k, 'request_id')) : [];
    return { counted: true, joined };
  }

  async recordFeedback(experiment: string, fb: Feedback, s: JoinSettings): Promise<FeedbackOutcome> {
    const x = this.state(experiment);
    if ((x.seen.get(fb.eventId) ?? 0) > s.now) return { status: 'duplicate' };
    x.seen.set(fb.eventId, s.now + s.ttlMs);
    const live = (rid: string) => {
      const m = x.impressions.get(rid);
      return m && m.expires > s.now ? m : undefined;
    };
    if (fb.requestId !== undefined) {
      const m = live(fb.requestId);
      if (!m) {
        const p = x.pending.get(fb.requestId);
        if (p && p.expires > s.now) p.items.push(fb);
        else x.pending.set(fb.requestId, { items: [fb], expires: s.now + s.ttlMs });
        return { status: 'pending' };
      }
      if (m.subject !== fb.subject) return { status: 'unattributed' };
      return applyFeedback(m, fb, this.countsOf(x, m.variant), s.k, 'request_id');
    }
    const list = x.subjects.get(fb.subject) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const m = live(list[i]!);
      if (!m || m.ts > fb.ts + ATTRIBUTION_SKEW_MS || !m.positions.has(fb.itemId)) continue;
      return applyFeedback(m, fb, this.countsOf(x, m.variant), s.k, 'subject_item');
    }
    return { status: 'unattributed' };
  }

  async recordImpressions(experiment: string, imps: readonly ImpressionRecord[], s: JoinSettings): Promise<Array<{ counted: boolean; joined: FeedbackOutcome[] }>> {
    const out = [];
    for (const imp of imps) out.push(await this.recordImpression(experiment, imp, s));
    return out;
  }

  async recordFeedbacks(experiment: string, fbs: readonly Feedback[], s: JoinSettings): Promise<FeedbackOutcome[]> {
    const out = [];
    for (const fb of fbs) out.push(await this.recordFeedback(experiment, fb, s));
    return out;
  }

  async counts(experiment: string): Promise<Record<string, StoredCounts>> {
    return Object.fromEntries([...(this.experiments.get(experiment)?.counts ?? new Map<string, StoredCounts>())].map(([v, c]) => [v, { ...c }]));
  }

  async looks(experiment: string): Promise<Record<string, number>> {
    return { ...(this.experiments.get(experiment)?.looks ?? {}) };
  }

  async recordLooks(experiment: string, p: Record<string, number>): Promise<Record<string, number>> {
    const looks = this.state(experiment).looks;
    for (const [key, value] of Object.entries(p)) looks[key] = Math.min(looks[key] ?? 1, value);
    return { ...looks };
  }

  async eraseSubject(subject: string): Promise<number> {
    let erased = 0;
    for (const x of this.experiments.values()) {
      for (const rid of x.subjects.get(subject) ?? []) {
        if (x.impressions.delete(rid)) erased++;
        x.pending.delete(rid);
      }
      x.subjects.delete(subject);
    }
    return erased;
  }
}
