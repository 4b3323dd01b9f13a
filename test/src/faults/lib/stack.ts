/**
 * One scenario's deployment on the suite's own servers: its topics (a namespace of its own), its
 * Redis key prefix, and the service processes it runs, kills and restarts. `cleanup()` stops every
 * process it started and deletes its topics and keys.
 */
import { GROUPS, RedisKeys, TOPICS } from '@seqrec/contracts';
import { KafkaAdmin, createTopicsAndWait } from '@seqrec/kafka';
import { deleteNamespaceTopics, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { RedisItemDictionary, RedisSequenceStore, createRedis } from '@seqrec/redis';
import { deleteNamespace } from '@seqrec/redis/testing';
import { logTails, startService, type RunningService } from '@seqrec/testing';
import type { Redis } from 'ioredis';
import { SESSION_TIMEOUT_MS, WINDOW_CAPACITY, between, sleep } from './config';
import type { FaultInfra } from './infra';

export type App = 'ingester' | 'sequence-builder' | 'embedding' | 'scorer' | 'trainer';

/**
 * The stream services, StatefulSets in k8s/base: each member keeps its name (INSTANCE_ID) across
 * restarts and joins its consumer groups as a static member, as a pod of the StatefulSet does.
 */
const STATIC_MEMBERS: ReadonlySet<App> = new Set(['ingester', 'sequence-builder', 'embedding']);

export interface StackOptions {
  /** Partitions of every topic (default 3). */
  partitions?: number;
  /** Extra variables for every service. */
  env?: Record<string, string>;
}

/** A service process of the stack; `svc` changes when the member is restarted. */
export interface Member {
  app: App;
  svc: RunningService;
  env: Record<string, string>;
  /** Starts and their time to ready, ms. */
  readyMs: number[];
  /** The test is killing, pausing or restarting it: the supervisor leaves it alone. */
  held?: boolean;
}

/** A restart the supervisor did, as Kubernetes would have. */
export interface SupervisorRestart {
  app: App;
  reason: string;
  atMs: number;
}

export interface KillLoopOptions {
  kills: number;
  random: () => number;
  /** Time between a (re)start being ready and the next kill: uniform in [minDelayMs, maxDelayMs]. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Called after the random delay, just before each kill: may wait for a moment worth killing in (e.g. a request in flight). */
  aim?: () => Promise<void>;
  /** Called after each kill, before the restart (e.g. to change something while the service is down). */
  whileDown?: (kill: number) => Promise<void>;
  /** Whether the member had made progress since it was (re)started, asked just before each kill. */
  progressed?: (member: Member) => Promise<boolean>;
  /**
   * Kill only once the member made progress (`progressed`), then after a further random
   * [0, busyDelayMs]: the kill lands while it works, not while it waits for the group to hand it
   * partitions (up to the session timeout after each restart).
   */
  busyDelayMs?: number;
}

export interface KillLoopReport {
  kills: number;
  /** Kills that hit a member that had made progress since its start (busy, not just starting). */
  killedBusy: number;
  /** Time to ready after each kill (exit → ready), ms. */
  readyMs: number[];
  /** ms since the loop started, of each kill. */
  killedAtMs: number[];
}

export class Stack {
  readonly ns = uniqueName('faults');
  readonly keys = new RedisKeys(this.ns);
  readonly members: Member[] = [];
  /** Every process the stack started (restarts included) and its log file. */
  readonly processes: Array<{ app: App; logPath: string }> = [];
  redis!: Redis;
  readonly partitions: number;
  private readonly extraEnv: Record<string, string>;
  /** Members started so far: numbers the stream services' INSTANCE_IDs. */
  private started = 0;

  constructor(
    readonly infra: FaultInfra,
    options: StackOptions = {},
  ) {
    this.partitions = options.partitions ?? 3;
    this.extraEnv = options.env ?? {};
  }

  get brokers(): string[] {
    return this.infra.brokers;
  }

  /** Physical topic name. */
  topic(t: string): string {
    return `${this.ns}.${t}`;
  }

  /** Physical consumer group name. */
  group(g: string): string {
    return `${this.ns}.${g}`;
  }

  /** Variables every service of the stack gets. */
  env(): Record<string, string> {
    return {
      KAFKA_BROKERS: this.brokers.join(','),
      KAFKA_NAMESPACE: this.ns,
      KAFKA_TOPIC_PARTITIONS: String(this.partitions),
      KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      // wedged consumers are restarted within about 20 s rather than 2 minutes (the suite's scale)
      KAFKA_STALLED_CONSUMER_MS: '12000',
      KAFKA_LAG_INTERVAL_MS: '5000',
      REDIS_URL: this.infra.redisUrl,
      REDIS_PREFIX: this.ns,
      SEQUENCE_LENGTH: String(WINDOW_CAPACITY),
      LOG_LEVEL: 'warn',
      ...this.extraEnv,
    };
  }

  async setup(): Promise<this> {
    await createTopicsAndWait(this.brokers, Object.values(TOPICS).map((t) => ({ topic: this.topic(t), numPartitions: this.partitions, replicationFactor: 1 })), 60_000);
    this.redis = createRedis({ url: this.infra.redisUrl, connectionName: 'seqrec-faults' });
    await this.redis.connect();
    return this;
  }

  windows(): RedisSequenceStore {
    return new RedisSequenceStore(this.redis, this.keys, { ttlMs: 0 });
  }

  items(): RedisItemDictionary {
    return new RedisItemDictionary(this.redis, this.keys);
  }

  async start(app: App, env: Record<string, string> = {}, readyTimeoutMs = 90_000): Promise<Member> {
    const name: Record<string, string> = STATIC_MEMBERS.has(app) ? { INSTANCE_ID: `${app}-${this.started++}`, KAFKA_STATIC_MEMBERSHIP: 'true' } : {};
    const full = { ...this.env(), ...name, ...env };
    const t0 = Date.now();
    const svc = await startService(app, full, readyTimeoutMs);
    this.processes.push({ app, logPath: svc.logPath });
    const member: Member = { app, svc, env: full, readyMs: [Date.now() - t0] };
    this.members.push(member);
    return member;
  }

  /** The first running member of an app. */
  member(app: App): Member {
    const m = this.members.find((x) => x.app === app && x.svc.proc.exitCode === null && x.svc.proc.signalCode === null);
    if (!m) throw new Error(`no running ${app}`);
    return m;
  }

  /** Sends `signal` and waits for the process to exit (SIGSTOP/SIGCONT return at once). */
  async signal(member: Member, signal: NodeJS.Signals): Promise<void> {
    const p = member.svc.proc;
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      p.kill(signal);
      return;
    }
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  /** Starts a stopped member again: a new process on a new port, under the same INSTANCE_ID for a stream service (a StatefulSet's pod). */
  async restart(member: Member, readyTimeoutMs = 90_000): Promise<number> {
    const t0 = Date.now();
    member.svc = await startService(member.app, member.env, readyTimeoutMs);
    this.processes.push({ app: member.app, logPath: member.svc.logPath });
    const ms = Date.now() - t0;
    member.readyMs.push(ms);
    return ms;
  }

  /** Stops a member for good (SIGTERM, graceful) and forgets it. */
  async retire(member: Member): Promise<number | null> {
    const code = await member.svc.stop(30_000);
    this.members.splice(this.members.indexOf(member), 1);
    return code;
  }

  /** Restarts done by {@link supervise}. */
  readonly restarts: SupervisorRestart[] = [];

  /**
   * Plays Kubernetes for the stack's processes: a member whose process exited, or whose
   * `/health/live` failed three checks in a row (a consumer that died for good), is killed and
   * started again, with a growing back-off (1 s, 2 s, ... 10 s) like a crash loop's. Members the
   * test holds (killing, pausing) are left alone. Returns the function that stops supervising.
   */
  supervise(): () => Promise<void> {
    const stop = this.superviseLoop();
    this.supervisors.push(stop);
    return stop;
  }

  /** Stoppers of the running {@link supervise} loops; cleanup() stops them before it stops the processes. */
  private readonly supervisors: Array<() => Promise<void>> = [];

  private superviseLoop(): () => Promise<void> {
    const t0 = Date.now();
    let stopped = false;
    const failedChecks = new Map<Member, number>();
    const backoff = new Map<Member, number>();
    const loop = (async () => {
      while (!stopped) {
        for (const m of [...this.members]) {
          if (stopped || m.held) continue;
          const p = m.svc.proc;
          let reason: string | undefined;
          if (p.exitCode !== null || p.signalCode !== null) reason = `exited (${p.exitCode ?? p.signalCode})`;
          else {
            const live = await fetch(`${m.svc.url}/health/live`, { signal: AbortSignal.timeout(2_000) }).then(
              (r) => r.status,
              () => 0,
            );
            const n = live === 200 ? 0 : (failedChecks.get(m) ?? 0) + 1;
            failedChecks.set(m, n);
            if (n >= 3) reason = `/health/live failed 3 times (last: ${live || 'no answer'})`;
          }
          if (!reason || stopped || m.held) continue;
          m.held = true;
          try {
            this.restarts.push({ app: m.app, reason, atMs: Date.now() - t0 });
            console.log(`# supervisor: restarting ${m.app} (${m.svc.url}): ${reason}`);
            await this.signal(m, 'SIGKILL');
            const wait = backoff.get(m) ?? 1_000;
            backoff.set(m, Math.min(10_000, wait * 2));
            await sleep(wait);
            for (;;) {
              try {
                await this.restart(m);
                break;
              } catch (err) {
                console.log(`# supervisor: ${m.app} did not start: ${(err as Error).message.split('\n')[0]}`);
                if (stopped) break;
                await sleep(Math.min(10_000, backoff.get(m)!));
              }
            }
            failedChecks.set(m, 0);
          } finally {
            m.held = false;
          }
        }
        await sleep(1_000);
      }
    })();
    return async () => {
      stopped = true;
      await loop;
    };
  }

  /**
   * SIGKILLs a member `kills` times at random moments, restarting it after each kill (as Kubernetes
   * does), while whatever load the caller runs goes on.
   */
  async killLoop(member: Member, o: KillLoopOptions): Promise<KillLoopReport> {
    const t0 = Date.now();
    const report: KillLoopReport = { kills: 0, killedBusy: 0, readyMs: [], killedAtMs: [] };
    member.held = true;
    try {
      await this.killLoopInner(member, o, report, t0);
    } finally {
      member.held = false;
    }
    return report;
  }

  private async killLoopInner(member: Member, o: KillLoopOptions, report: KillLoopReport, t0: number): Promise<void> {
    for (let k = 0; k < o.kills; k++) {
      await sleep(between(o.random, o.minDelayMs, o.maxDelayMs));
      if (o.aim) await o.aim();
      if (o.busyDelayMs !== undefined && o.progressed) {
        const p = o.progressed;
        await waitFor('the member to make progress', () => p(member).catch(() => false), 60_000).catch(() => undefined);
        await sleep(between(o.random, 0, o.busyDelayMs));
      }
      if (o.progressed && (await o.progressed(member).catch(() => false))) report.killedBusy++;
      report.killedAtMs.push(Date.now() - t0);
      const down = Date.now();
      await this.signal(member, 'SIGKILL');
      report.kills++;
      if (o.whileDown) await o.whileDown(k);
      await this.restart(member);
      report.readyMs.push(Date.now() - down);
    }
  }

  /** Metric samples of a member (`name{labels} value` lines), summed over label sets matching `labels`. */
  async metric(member: Member, name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(member.svc.metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([-+.\deE]+|NaN)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const ls = m[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  }

  /** Committed offsets of a group vs the ends of a topic (read committed), per partition. */
  async groupLag(group: string, topic: string): Promise<Array<{ partition: number; high: number; committed: number }>> {
    const admin = new KafkaAdmin(this.brokers);
    try {
      const ends = await admin.topicOffsets(this.topic(topic));
      const committed = await admin.committedOffsets(this.group(group), this.topic(topic), ends.map((e) => e.partition));
      return ends.map((e) => ({ partition: e.partition, high: e.high, committed: committed.get(e.partition) ?? -1 }));
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Waits until the ingester group has committed every raw message (the raw topic is written by
   * plain producers only, so committed == end offset exactly).
   */
  async rawConsumed(timeoutMs = 180_000): Promise<void> {
    await waitFor(
      'the ingester group to commit the whole raw topic',
      async () => (await this.groupLag(GROUPS.INGESTER, TOPICS.CLICKSTREAM_RAW)).every((p) => p.high === 0 || p.committed === p.high),
      timeoutMs,
    );
  }

  /**
   * The last lines of every process's log (start-up noise left out), for a failure message: what
   * the services said when the oracle found the stream incomplete, in the test's own output (a CI
   * run's log files do not survive it).
   */
  logDigest(linesPerProcess = 40): string {
    return logTails(this.processes.map((p) => ({ name: p.app, logPath: p.logPath })), linesPerProcess);
  }

  async cleanup(): Promise<void> {
    for (const stop of this.supervisors.splice(0)) await stop();
    await Promise.all(
      this.members.map(async (m) => {
        const p = m.svc.proc;
        if (p.exitCode === null && p.signalCode === null) {
          p.kill('SIGCONT');
          await m.svc.stop(15_000);
        }
      }),
    );
    this.members.length = 0;
    await deleteNamespaceTopics(this.brokers, this.ns).catch((err) => console.log(`# cleanup: deleting topics of ${this.ns}: ${(err as Error).message}`));
    if (this.redis) {
      await deleteNamespace(this.redis, this.keys).catch(() => undefined);
      await this.redis.quit().catch(() => undefined);
    }
  }
}
