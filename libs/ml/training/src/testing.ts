/**
 * Tiny generated training data for tests (this library's and the trainer app's): per-user item
 * sequences from the synthetic clickstream generator, as events or as a SASRec-format file.
 */
import { writeFile } from 'node:fs/promises';
import type { EventV1 } from '@seqrec/contracts';
import { generateSequences } from '@seqrec/generator';

export interface GeneratedDataOptions {
  users?: number;
  items?: number;
  /** Clean generator events to draw (before keeping views). */
  events?: number;
  seed?: number;
  /** Timestamp of the first event, epoch ms. */
  startTime?: number;
}

/** `userId → item ids` from the generator (views, repeats collapsed). */
export function generatedSequences(o: GeneratedDataOptions = {}): Map<string, string[]> {
  const items = o.items ?? 60;
  return generateSequences({ events: o.events ?? 4_000, users: o.users ?? 80, items, categories: Math.max(1, Math.min(10, Math.floor(items / 4))), seed: o.seed ?? 3 });
}

/** The sequences as `view` events, one second apart per user, in user order. */
export function generatedEvents(o: GeneratedDataOptions = {}): EventV1[] {
  const start = o.startTime ?? Date.UTC(2026, 10, 1);
  const out: EventV1[] = [];
  for (const [userId, items] of generatedSequences(o)) {
    items.forEach((itemId, i) => out.push({ eventId: `${userId}-${i}`, userId, type: 'view', itemId, ts: start + i * 1_000 } as EventV1));
  }
  return out;
}

/** Writes the sequences as a SASRec `<user> <item>` file (integer ids) and returns the path. */
export async function writeGeneratedDataset(path: string, o: GeneratedDataOptions = {}): Promise<string> {
  const items = new Map<string, number>();
  const lines: string[] = [];
  let u = 0;
  for (const [, seq] of generatedSequences(o)) {
    u++;
    for (const it of seq) {
      let id = items.get(it);
      if (id === undefined) items.set(it, (id = items.size + 1));
      lines.push(`${u} ${id}`);
    }
  }
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}
