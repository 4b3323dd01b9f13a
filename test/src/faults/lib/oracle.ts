/**
 * The stream services' oracle: every event a client was told was accepted is on the events topic
 * exactly once, and every user's window holds each of its events exactly once (the suite keeps
 * windows longer than any user's history, so no event may fall out of one).
 */
import { KafkaConsumer, type Message } from '@confluentinc/kafka-javascript';
import { TOPICS, type EventV1 } from '@seqrec/contracts';
import { KafkaAdmin } from '@seqrec/kafka';
import { decodeWindow } from '@seqrec/window';
import { expectedWindows, type ExpectedPosition } from '@seqrec/testing';
import { WINDOW_CAPACITY, sleep } from './config';
import type { LoadEvent } from './load';
import type { Stack } from './stack';

export interface TopicRecord {
  partition: number;
  offset: number;
  event: EventV1;
}

/**
 * Every committed message of a topic, read to the end of each partition (read committed: aborted
 * transactions are not returned; the end is the last stable offset) with a consumer that assigns
 * the partitions itself (no group, commits nothing).
 */
export async function readToEnd(brokers: string[], topic: string, timeoutMs = 120_000): Promise<Message[]> {
  const admin = new KafkaAdmin(brokers);
  let ends: Array<{ partition: number; low: number; high: number }>;
  try {
    ends = await admin.topicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const consumer = new KafkaConsumer(
    {
      'bootstrap.servers': brokers.join(','),
      'group.id': `faults-reader-${process.pid}-${Date.now()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      log_level: 3,
    } as never,
    {},
  );
  const out: Message[] = [];
  const pending = new Set(ends.filter((e) => e.high > e.low).map((e) => e.partition));
  consumer.on('partition.eof', (eof: { partition: number }) => pending.delete(eof.partition));
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  try {
    consumer.assign(ends.map((e) => ({ topic, partition: e.partition, offset: e.low })));
    const until = Date.now() + timeoutMs;
    while (pending.size > 0) {
      if (Date.now() > until) throw new Error(`reading ${topic}: partitions ${[...pending].join(',')} not read to their end within ${timeoutMs} ms`);
      const batch = await new Promise<Message[]>((resolve, reject) => consumer.consume(5_000, (err, m) => (err ? reject(err) : resolve(m ?? []))));
      out.push(...batch);
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return out;
}

/** The events topic, parsed. */
export async function readEvents(stack: Stack): Promise<TopicRecord[]> {
  const msgs = await readToEnd(stack.brokers, stack.topic(TOPICS.EVENTS));
  return msgs.map((m) => ({ partition: m.partition, offset: m.offset, event: JSON.parse(String(m.value)) as EventV1 }));
}

export interface TopicVerdict {
  /** Told accepted, not on the topic. */
  lost: number;
  /** Extra copies on the topic (an event there n times counts n - 1). */
  duplicated: number;
  /** On the topic, but no client was told it was accepted. */
  foreign: number;
  examples: string[];
}

export function compareTopic(expected: LoadEvent[], onTopic: TopicRecord[]): TopicVerdict {
  const where = new Map<string, TopicRecord[]>();
  for (const r of onTopic) {
    let l = where.get(r.event.eventId);
    if (!l) where.set(r.event.eventId, (l = []));
    l.push(r);
  }
  const want = new Set(expected.map((e) => e.eventId));
  const v: TopicVerdict = { lost: 0, duplicated: 0, foreign: 0, examples: [] };
  const note = (s: string) => void (v.examples.length < 12 && v.examples.push(s));
  for (const e of expected) {
    if (!where.has(e.eventId)) {
      v.lost++;
      note(`lost: ${e.eventId} (user ${e.userId}) is not on the events topic`);
    }
  }
  for (const [id, l] of where) {
    if (l.length > 1) {
      v.duplicated += l.length - 1;
      note(`duplicated: ${id} is on the events topic ${l.length} times (${l.map((r) => `${r.partition}@${r.offset}`).join(', ')})`);
    }
    if (!want.has(id)) {
      v.foreign++;
      note(`foreign: ${id} is on the events topic (${l.map((r) => `${r.partition}@${r.offset}`).join(', ')}) but no client was told it was accepted`);
    }
  }
  return v;
}

export interface WindowVerdict {
  users: number;
  /** Events missing from their user's window. */
  lost: number;
  /** Events a window holds more often than its user has them (duplicates or foreign). */
  extra: number;
  examples: string[];
}

const posKey = (p: ExpectedPosition) => `${p.item}|${p.type}|${p.ts}`;

/**
 * Compares every user's window in Redis with the events `expected` says it must hold (as
 * multisets of item, type and second). `positions` (from the events topic) names where each
 * event is, for the examples.
 */
export async function compareWindows(stack: Stack, expected: LoadEvent[], positions?: Map<string, TopicRecord[]>): Promise<WindowVerdict> {
  const want = expectedWindows(expected as EventV1[], WINDOW_CAPACITY);
  const byUser = new Map<string, LoadEvent[]>();
  for (const e of expected) {
    let l = byUser.get(e.userId);
    if (!l) byUser.set(e.userId, (l = []));
    l.push(e);
  }
  const users = [...want.keys()];
  const store = stack.windows();
  const dict = stack.items();
  const v: WindowVerdict = { users: users.length, lost: 0, extra: 0, examples: [] };
  for (let i = 0; i < users.length; i += 1_000) {
    const chunk = users.slice(i, i + 1_000);
    const bufs = await store.getMany(chunk);
    const indices = new Set<number>();
    const decoded = bufs.map((b) => (b ? decodeWindow(b) : { watermark: null, events: [] }));
    for (const w of decoded) for (const e of w.events) if (e.item >= 0) indices.add(e.item);
    const idList = [...indices];
    const ids = await dict.idsOf(idList);
    const idOf = new Map(idList.map((ix, k) => [ix, ids[k]]));
    chunk.forEach((userId, k) => {
      const w = decoded[k]!;
      const got: ExpectedPosition[] = w.events.map((e) => ({ item: e.item >= 0 ? (idOf.get(e.item) ?? `#${e.item}`) : null, type: e.type, ts: e.ts }));
      const exp = want.get(userId)!;
      const counts = new Map<string, number>();
      for (const p of exp) counts.set(posKey(p), (counts.get(posKey(p)) ?? 0) + 1);
      const extra: string[] = [];
      for (const p of got) {
        const c = counts.get(posKey(p)) ?? 0;
        if (c > 0) counts.set(posKey(p), c - 1);
        else extra.push(posKey(p));
      }
      const lost = [...counts].flatMap(([key, c]) => Array<string>(c).fill(key));
      v.lost += lost.length;
      v.extra += extra.length;
      if ((lost.length || extra.length) && v.examples.length < 12) {
        const describe = (key: string) => {
          const [item, type, ts] = key.split('|');
          const events = (byUser.get(userId) ?? []).filter((e) => String(e.type === 'search' ? null : (e.itemId ?? null)) === item && Math.floor(e.ts / 1000) * 1000 === Number(ts));
          const at = events.map((e) => `${e.eventId}${positions?.get(e.eventId) ? ` at ${positions.get(e.eventId)!.map((r) => `${r.partition}@${r.offset}`).join('+')}` : ''}`);
          return `(item ${item}, type ${type}, ${new Date(Number(ts)).toISOString()}${at.length ? `: ${at.join(', ')}` : ''})`;
        };
        v.examples.push(
          `user ${userId} (watermark ${w.watermark ? `${w.watermark.partition}@${w.watermark.offset}` : 'none'}, ${got.length} events, expected ${exp.length})` +
            `${lost.length ? `; missing ${lost.length}: ${lost.slice(0, 3).map(describe).join(' ')}` : ''}` +
            `${extra.length ? `; extra ${extra.length}: ${extra.slice(0, 3).map(describe).join(' ')}` : ''}`,
        );
      }
    });
  }
  return v;
}

export interface StreamVerdict {
  /** Events clients were told were accepted (or duplicates of accepted ones). */
  events: number;
  topic: TopicVerdict;
  windows: WindowVerdict;
  /** Users whose events are on more than one partition of the events topic. */
  usersOnSeveralPartitions: number;
  /** Time from the end of the load until the windows were complete (or the deadline), ms. */
  convergedMs: number;
  converged: boolean;
}

export interface VerifyOptions {
  /** Wait for the ingester group to commit the whole raw topic first. */
  raw?: boolean;
  /** Deadline for the windows to become complete. */
  timeoutMs?: number;
  /**
   * Give up earlier when the windows gained nothing for this long (default 60 s: longer than it
   * takes the services to notice a wedged consumer and be restarted, KAFKA_STALLED_CONSUMER_MS
   * plus a lag reading plus the supervisor's three failed checks).
   */
  stallMs?: number;
}

/**
 * Waits (by condition, with a deadline) until every expected event is in its window, then reads the
 * events topic to its end and compares both with what the clients were told.
 */
export async function verifyStream(stack: Stack, expected: LoadEvent[], o: VerifyOptions = {}): Promise<StreamVerdict> {
  const t0 = Date.now();
  const timeoutMs = o.timeoutMs ?? 180_000;
  if (o.raw) await stack.rawConsumed(timeoutMs).catch((err) => console.log(`# ${(err as Error).message}`));
  // Until every window is complete, or the deadline, or no window gained an event for
  // `stallMs` (lost for good: no point in waiting out the deadline).
  let converged = false;
  let lastLost = -1;
  let lastChange = Date.now();
  const stallMs = o.stallMs ?? 60_000;
  for (;;) {
    const lost = await compareWindows(stack, expected).then(
      (w) => w.lost,
      () => -1,
    );
    if (lost === 0) {
      converged = true;
      break;
    }
    if (lost !== lastLost) {
      lastLost = lost;
      lastChange = Date.now();
    }
    if (Date.now() - t0 > timeoutMs || Date.now() - lastChange > stallMs) break;
    await sleep(1_000);
  }
  const convergedMs = Date.now() - t0;
  await sleep(1_000); // a redelivery in flight shows as an extra below
  const onTopic = await readEvents(stack);
  const positions = new Map<string, TopicRecord[]>();
  for (const r of onTopic) {
    let l = positions.get(r.event.eventId);
    if (!l) positions.set(r.event.eventId, (l = []));
    l.push(r);
  }
  const topic = compareTopic(expected, onTopic);
  const windows = await compareWindows(stack, expected, positions);
  const partitionsOf = new Map<string, Set<number>>();
  for (const r of onTopic) {
    let ps = partitionsOf.get(r.event.userId!);
    if (!ps) partitionsOf.set(r.event.userId!, (ps = new Set()));
    ps.add(r.partition);
  }
  const usersOnSeveralPartitions = [...partitionsOf.values()].filter((ps) => ps.size > 1).length;
  return { events: expected.length, topic, windows, usersOnSeveralPartitions, convergedMs, converged };
}

/** One line for logs and assertion messages. */
export function describeVerdict(v: StreamVerdict): string {
  return (
    `${v.events} events told accepted; events topic: lost ${v.topic.lost}, duplicated ${v.topic.duplicated}, foreign ${v.topic.foreign}; ` +
    `windows (${v.windows.users} users${v.usersOnSeveralPartitions ? `, ${v.usersOnSeveralPartitions} with events on two partitions` : ''}): lost ${v.windows.lost}, extra ${v.windows.extra}; ` +
    `${v.converged ? `complete ${(v.convergedMs / 1000).toFixed(1)} s after the load` : `NOT complete after ${(v.convergedMs / 1000).toFixed(1)} s`}` +
    `${v.topic.examples.length || v.windows.examples.length ? `\n  ${[...v.topic.examples, ...v.windows.examples].join('\n  ')}` : ''}`
  );
}

/** Whether the oracle holds. */
export function holds(v: StreamVerdict): boolean {
  return v.topic.lost === 0 && v.topic.duplicated === 0 && v.topic.foreign === 0 && v.windows.lost === 0 && v.windows.extra === 0;
}
