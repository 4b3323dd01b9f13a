import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisKeys } from '@seqrec/contracts';
import type { RedisClient } from '@seqrec/redis';
import type { ExperimentConfig } from './config';
import {
  ATTRIBUTION_SKEW_MS,
  EMPTY_STORED_COUNTS,
  KEPT_POSITIONS,
  type ExperimentRecord,
  type ExperimentStore,
  type Feedback,
  type FeedbackOutcome,
  type ImpressionRecord,
  type JoinSettings,
  type StoredCounts,
} from './store';

const LUA_DIR = join(__dirname, '..', 'lua');
const SCRIPTS = { recordImpression: true, recordFeedback: true, eraseSubject: false, recordLooks: false, startExperiment: false, stopExperiment: false } as const;

type Reply = Array<string | number | Reply>;
type Call = (...args: Array<string | number>) => Promise<unknown>;

/**
 * The experiment store on Redis or Redis Cluster: each experiment's join state under one hash tag
 * (`{x:<id>}`, one slot), written by Lua scripts so every count is applied once and atomically;
 * the active experiment and the records under `{cfg}`.
 */
export class RedisExperimentStore implements ExperimentStore {
  private readonly call: Record<keyof typeof SCRIPTS, Call>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    const common = readFileSync(join(LUA_DIR, 'common.lua'), 'utf8');
    const call = {} as Record<keyof typeof SCRIPTS, Call>;
    for (const [name, usesCommon] of Object.entries(SCRIPTS) as Array<[keyof typeof SCRIPTS, boolean]>) {
      const command = `exp_${name}`;
      const own = readFileSync(join(LUA_DIR, `${name}.lua`), 'utf8');
      const keys = name === 'startExperiment' || name === 'stopExperiment' ? 2 : 1;
      redis.defineCommand(command, { numberOfKeys: keys, lua: usesCommon ? `${common}\n${own}` : own });
      const r = redis as unknown as Record<string, Call>;
      call[name] = (...args) => r[command]!(...args);
    }
    this.call = call;
  }

  async active(): Promise<ExperimentRecord | null> {
    const raw = await this.redis.get(this.keys.experimentsActive());
    return raw ? (JSON.parse(raw) as ExperimentRecord) : null;
  }

  async start(config: ExperimentConfig, now: number): Promise<ExperimentRecord> {
    const raw = (await this.call.startExperiment(this.keys.experimentsActive(), this.keys.experimentsRecords(), config.id, JSON.stringify(config), now)) as string;
    return JSON.parse(raw) as ExperimentRecord;
  }

  async stop(id: string, now: number): Promise<boolean> {
    return (await this.call.stopExperiment(this.keys.experimentsActive(), this.keys.experimentsRecords(), id, now)) === 1;
  }

  async history(): Promise<ExperimentRecord[]> {
    const all = await this.redis.hgetall(this.keys.experimentsRecords());
    return Object.values(all)
      .map((raw) => JSON.parse(raw) as ExperimentRecord)
      .sort((a, b) => b.startedAt - a.startedAt);
  }

  async recordImpression(experiment: string, imp: ImpressionRecord, s: JoinSettings): Promise<{ counted: boolean; joined: FeedbackOutcome[] }> {
    return (await this.recordImpressions(experiment, [imp], s))[0]!;
  }

  async recordFeedback(experiment: string, fb: Feedback, s: JoinSettings): Promise<FeedbackOutcome> {
    return (await this.recordFeedbacks(experiment, [fb], s))[0]!;
  }

  /** One pipeline (one write, one slot: the experiment's), the scripts run in order. */
  async recordImpressions(experiment: string, imps: readonly ImpressionRecord[], s: JoinSettings): Promise<Array<{ counted: boolean; joined: FeedbackOutcome[] }>> {
    if (imps.length === 0) return [];
    const P = this.keys.experiment(experiment);
    const ttl = Math.max(1, Math.round(s.ttlMs));
    const replies = await this.pipelined(
      'exp_recordImpression',
      imps.map((imp) => [`${P}imp:${imp.requestId}`, P, imp.requestId, imp.variant, imp.subject, imp.ts, s.k, ttl, ...imp.items.slice(0, KEPT_POSITIONS)]),
    );
    return replies.map((reply) => ({ counted: reply[0] === 1, joined: reply.slice(1).map((o) => outcome(o as Reply)) }));
  }

  async recordFeedbacks(experiment: string, fbs: readonly Feedback[], s: JoinSettings): Promise<FeedbackOutcome[]> {
    if (fbs.length === 0) return [];
    const P = this.keys.experiment(experiment);
    const ttl = Math.max(1, Math.round(s.ttlMs));
    const replies = await this.pipelined(
      'exp_recordFeedback',
      fbs.map((fb) => [`${P}seen:${fb.eventId}`, P, fb.eventId, fb.type, fb.subject, fb.itemId, fb.requestId ?? '', String(fb.revenue), fb.ts, s.k, ttl, ATTRIBUTION_SKEW_MS]),
    );
    return replies.map(outcome);
  }

  private async pipelined(command: string, calls: Array<Array<string | number>>): Promise<Reply[]> {
    const pipe = this.redis.pipeline() as unknown as Record<string, (...args: Array<string | number>) => unknown> & { exec(): Promise<Array<[Error | null, unknown]> | null> };
    for (const args of calls) pipe[command]!(...args);
    const results = (await pipe.exec()) ?? [];
    return results.map(([err, reply]) => {
      if (err) throw err;
      return reply as Reply;
    });
  }

  async counts(experiment: string): Promise<Record<string, StoredCounts>> {
    const raw = await this.redis.hget(this.keys.experimentsRecords(), experiment);
    const exp = raw ? (JSON.parse(raw) as ExperimentRecord) : null;
    const variants = exp ? ['holdout', ...exp.config.variants.map((v) => v.name)] : [];
    const P = this.keys.experiment(experiment);
    const out: Record<string, StoredCounts> = {};
    for (const v of variants) {
      const h = await this.redis.hgetall(`${P}counts:${v}`);
      if (Object.keys(h).length === 0) continue;
      const c = { ...EMPTY_STORED_COUNTS };
      for (const key of Object.keys(c) as Array<keyof StoredCounts>) if (h[key] !== undefined) c[key] = Number(h[key]);
      out[v] = c;
    }
    return out;
  }

  async looks(experiment: string): Promise<Record<string, number>> {
    const h = await this.redis.hgetall(`${this.keys.experiment(experiment)}looks`);
    return Object.fromEntries(Object.entries(h).map(([key, v]) => [key, Number(v)]));
  }

  async recordLooks(experiment: string, p: Record<string, number>): Promise<Record<string, number>> {
    const pairs = Object.entries(p).flatMap(([key, v]) => [key, String(v)]);
    if (pairs.length === 0) return this.looks(experiment);
    const flat = (await this.call.recordLooks(`${this.keys.experiment(experiment)}looks`, ...pairs)) as string[];
    const out: Record<string, number> = {};
    for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = Number(flat[i + 1]);
    return out;
  }

  async eraseSubject(subject: string): Promise<number> {
    let n = 0;
    for (const r of await this.history()) {
      const P = this.keys.experiment(r.config.id);
      n += Number(await this.call.eraseSubject(`${P}sub:${subject}`, P));
    }
    return n;
  }
}

function outcome(r: Reply): FeedbackOutcome {
  const status = r[0];
  if (status === 'joined') {
    return {
      status,
      type: r[1] as Feedback['type'],
      variant: String(r[2]),
      position: Number(r[3]),
      attribution: r[4] as 'request_id' | 'subject_item',
      newlyClicked: r[5] === 1,
      newlyConverted: r[6] === 1,
      revenue: Number(r[7]),
    };
  }
  if (status === 'duplicate' || status === 'pending' || status === 'unattributed') return { status };
  throw new Error(`unexpected experiment script reply ${JSON.stringify(r)}`);
}
