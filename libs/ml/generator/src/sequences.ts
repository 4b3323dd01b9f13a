import type { EventType } from '@seqrec/contracts';
import { ClickstreamGenerator } from './clickstream-generator';
import type { GeneratorOptions } from './options';

export interface SequenceOptions extends GeneratorOptions {
  /** Number of clean events to generate (all types, before filtering by `types`). */
  events: number;
  /** Event types whose items make up the sequences. Default `['view']`. */
  types?: readonly EventType[];
  /** Drop an item equal to the one just before it in the same user's sequence. Default true. */
  collapseRepeats?: boolean;
}

/**
 * Per-user item sequences, in time order, from the first `events` clean events of a generator with
 * these options: the input shape of sequence-model tests (userId → item ids).
 */
export function generateSequences(options: SequenceOptions): Map<string, string[]> {
  const { events, types = ['view'], collapseRepeats = true, ...generatorOptions } = options;
  if (!Number.isSafeInteger(events) || events < 0) throw new RangeError(`events must be an integer >= 0, got ${events}`);
  const wanted = new Set<string>(types);
  const gen = new ClickstreamGenerator({ ...generatorOptions, duplicateRate: 0, malformedRate: 0, lateRate: 0 });
  const out = new Map<string, string[]>();
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    if (!wanted.has(e.type) || e.itemId === undefined || e.userId === undefined) continue;
    let seq = out.get(e.userId);
    if (seq === undefined) out.set(e.userId, (seq = []));
    if (collapseRepeats && seq[seq.length - 1] === e.itemId) continue;
    seq.push(e.itemId);
  }
  return out;
}
