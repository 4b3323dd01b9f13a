/**
 * Where training data comes from. Every source ends as a `SequenceDataset` (items 1..N, sequences
 * oldest first) plus a one-line description recorded in the artifact manifest (`data`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { deletedEvent, parseUserDeletion, type EventV1, type UserDeletionV1 } from '@seqrec/contracts';
import { KNOWN_DATASETS, fromEvents, loadDataset, type ColumnMapping, type DatasetFormat, type FromEventsOptions, type SequenceDataset } from '@seqrec/datasets';
import { replayEvents, type KafkaReplayOptions } from './kafka-replay';

export type DataSource =
  /** A dataset file in one of the `@seqrec/datasets` formats (`auto`: detected). */
  | { kind: 'file'; path: string; format?: DatasetFormat | 'auto'; name?: string; columns?: Omit<ColumnMapping, 'format'> }
  /** A replay of the events topic (all retained messages, or a time range). */
  | ({ kind: 'kafka'; name?: string; events?: FromEventsOptions } & KafkaReplayOptions)
  /** Events already in memory (tests). */
  | { kind: 'events'; events: readonly EventV1[]; name?: string; options?: FromEventsOptions }
  /** A snapshot of the events topic, one `EventV1` JSON per line (embedded mode: {@link writeEventsSnapshot}). */
  | { kind: 'events-file'; path: string; name?: string; options?: FromEventsOptions }
  /** A dataset already built. */
  | { kind: 'dataset'; dataset: SequenceDataset };

export interface LoadedSource {
  dataset: SequenceDataset;
  /** e.g. `file:/data/ml-1m.txt (sasrec)`, `kafka:ns.ingest.internal.event.accepted.1[2026-11-01T00:00:00.000Z,...)`. */
  description: string;
  /** Source-specific figures (events read, invalid messages, ...). */
  details: Record<string, unknown>;
}

const iso = (t: number | undefined) => (t === undefined ? '' : new Date(t).toISOString());

/** Loads a data source into a dataset. */
export async function loadSource(source: DataSource, log: (msg: string) => void = () => undefined): Promise<LoadedSource> {
  switch (source.kind) {
    case 'file': {
      const format = source.format ?? 'auto';
      const dataset = await loadDataset(source.path, format, { name: source.name ?? datasetNameOf(source.path), ...(source.columns ? { columns: source.columns } : {}) });
      return {
        dataset,
        description: `file:${source.path} (${format})`,
        details: { path: source.path, format, ...(source.columns ? { columns: source.columns } : {}) },
      };
    }
    case 'kafka': {
      const r = await replayEvents({
        ...source,
        onProgress: (read, total) => log(`replayed ${read}/${total} messages`),
      });
      const dataset = fromEvents(r.events, { name: source.name ?? 'events', ...(source.events ?? {}) });
      return {
        dataset,
        description: `kafka:${r.topic}[${iso(source.from) || 'start'},${iso(source.to) || 'end'})`,
        details: { topic: r.topic, events: r.events.length, invalid: r.invalid, outOfRange: r.outOfRange, deleted: r.deleted, deletions: r.deletions, ...(r.latestDeletion !== null ? { latestDeletion: r.latestDeletion } : {}), partitions: r.partitions, replaySeconds: r.seconds },
      };
    }
    case 'events': {
      const dataset = fromEvents(source.events, { name: source.name ?? 'events', ...(source.options ?? {}) });
      return { dataset, description: `events:${source.events.length}`, details: { events: source.events.length } };
    }
    case 'events-file': {
      const events = parseEventLines(await readFile(source.path, 'utf8'));
      const dataset = fromEvents(events, { name: source.name ?? 'events', ...(source.options ?? {}) });
      return { dataset, description: `events-file:${source.path}`, details: { events: events.length } };
    }
    case 'dataset':
      return { dataset: source.dataset, description: `dataset:${source.dataset.name}`, details: {} };
  }
}

/** `ml-1m-sasrec/ml-1m.txt` → `ml-1m`, `Beauty.txt.gz` → `beauty`. */
export function datasetNameOf(path: string): string {
  const known = Object.values(KNOWN_DATASETS).find((d) => path.replace(/\\/g, '/').endsWith(d.file));
  if (known) return known.name;
  return basename(path)
    .replace(/\.gz$/, '')
    .replace(/\.(txt|csv|dat|tsv|jsonl|ndjson)$/, '')
    .toLowerCase();
}

/**
 * Writes the values of events-topic messages (each an `EventV1` JSON) as one snapshot file, one per
 * line, for a training run in another process (source kind `events-file`). Messages timestamped
 * before `from` (epoch ms) are left out, and so are the events of deleted and objecting users
 * (`deletions`: the deletions topic's messages, as the Kafka replay leaves them out). Returns the
 * events written.
 */
export async function writeEventsSnapshot(
  path: string,
  values: Iterable<{ value: Buffer | null; timestamp: number }>,
  from = 0,
  deletions: Iterable<{ key: Buffer | null; value: Buffer | null }> = [],
): Promise<number> {
  const deleted = new Map<string, UserDeletionV1>();
  for (const m of deletions) {
    const d = parseUserDeletion(m.value, m.key?.toString('utf8') ?? null);
    if (d) deleted.set(d.userId, d);
  }
  const linked = new Map<string, UserDeletionV1>();
  const kept: Array<{ value: Buffer; event: Pick<EventV1, 'userId' | 'sessionId' | 'ts'> | null; timestamp: number }> = [];
  for (const m of values) {
    if (!m.value || m.timestamp < from) continue;
    const event = deleted.size > 0 ? eventIds(m.value) : null;
    if (event?.userId !== undefined) {
      const d = deleted.get(event.userId);
      if (d && event.sessionId !== undefined) linked.set(event.sessionId, d);
      if (deletedEvent(d, event.ts, m.timestamp)) continue;
    }
    kept.push({ value: m.value, event, timestamp: m.timestamp });
  }
  const lines: Buffer[] = [];
  const newline = Buffer.from('\n');
  for (const { value, event, timestamp } of kept) {
    // anonymous events of a session that logged into a deleted user
    if (event && event.userId === undefined && event.sessionId !== undefined && deletedEvent(linked.get(event.sessionId), event.ts, timestamp)) continue;
    lines.push(value, newline);
  }
  await writeFile(path, Buffer.concat(lines));
  return lines.length / 2;
}

function eventIds(value: Buffer): Pick<EventV1, 'userId' | 'sessionId' | 'ts'> | null {
  try {
    const e = JSON.parse(value.toString('utf8')) as Partial<EventV1>;
    return typeof e.ts === 'number' ? { ts: e.ts, ...(typeof e.userId === 'string' ? { userId: e.userId } : {}), ...(typeof e.sessionId === 'string' ? { sessionId: e.sessionId } : {}) } : null;
  } catch {
    return null;
  }
}

function parseEventLines(text: string): EventV1[] {
  const events: EventV1[] = [];
  for (const line of text.split('\n')) if (line) events.push(JSON.parse(line) as EventV1);
  return events;
}
