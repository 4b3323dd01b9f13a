/**
 * Synthetic data for this library's tests and smoke benchmarks: a random first-order Markov
 * chain (each item has a few successors with skewed probabilities), split leave-one-out.
 */
import type { EvalCase, LeaveOneOutSplit, Recommender, SequenceDataset } from '@seqrec/datasets';
import { Rng } from '@seqrec/random';

export interface MarkovOptions {
  numItems: number;
  users: number;
  minLen: number;
  maxLen: number;
  /** Successors per item; the first gets most of the probability. Default 3. */
  successors?: number;
  /** Event types per position (random codes 0..numTypes-1) when > 0. */
  numTypes?: number;
  seed?: number;
}

/** Sequences from a random Markov chain over items 1..numItems, split leave-one-out. */
export function markovSplit(o: MarkovOptions): LeaveOneOutSplit {
  const rng = new Rng(o.seed ?? 7);
  const k = o.successors ?? 3;
  // Successor j of item i is perm_j(i) for random permutations: every item is equally likely in
  // the long run, so popularity carries no signal and the chain does.
  const perms = Array.from({ length: k }, () => rng.shuffle(Int32Array.from({ length: o.numItems }, (_, i) => i + 1)));
  const succ = Array.from({ length: o.numItems + 1 }, (_, i) => perms.map((p) => (i === 0 ? 0 : p[i - 1]!)));
  const probs = Array.from({ length: k }, (_, i) => Math.pow(0.35, i));
  const z = probs.reduce((a, b) => a + b, 0);
  const sequences: Int32Array[] = [];
  const types: Uint8Array[] = [];
  for (let u = 0; u < o.users; u++) {
    const n = rng.between(o.minLen, o.maxLen);
    const s = new Int32Array(n);
    s[0] = rng.between(1, o.numItems);
    for (let i = 1; i < n; i++) {
      let r = rng.float() * z;
      let j = 0;
      while (j < k - 1 && r >= probs[j]!) r -= probs[j++]!;
      s[i] = succ[s[i - 1]!]![j]!;
    }
    sequences.push(s);
    types.push(Uint8Array.from(s, () => (o.numTypes ? rng.between(0, o.numTypes - 1) : 0)));
  }
  const dataset: SequenceDataset = {
    name: 'markov',
    numItems: o.numItems,
    itemIds: Array.from({ length: o.numItems + 1 }, (_, i) => (i === 0 ? '' : String(i))),
    users: sequences.map((_, i) => String(i)),
    sequences,
    ...(o.numTypes ? { types } : {}),
  };
  const evalCase = (u: number, cut: number): EvalCase => ({
    user: u,
    history: sequences[u]!.slice(0, cut),
    ...(o.numTypes ? { historyTypes: types[u]!.slice(0, cut) } : {}),
    target: sequences[u]![cut]!,
  });
  return {
    dataset,
    train: sequences.map((s) => s.slice(0, s.length - 2)),
    ...(o.numTypes ? { trainTypes: types.map((t) => t.slice(0, t.length - 2)) } : {}),
    valid: sequences.map((s, u) => evalCase(u, s.length - 2)),
    test: sequences.map((s, u) => evalCase(u, s.length - 1)),
  };
}

/** Most-popular baseline over the training sequences. */
export function popularity(split: LeaveOneOutSplit): Recommender {
  const n = split.dataset.numItems;
  const counts = new Float32Array(n + 1);
  for (const s of split.train) for (const it of s) counts[it]! += 1;
  return {
    name: 'pop',
    scoreBatch: async (histories) => {
      const out = new Float32Array(histories.length * (n + 1));
      for (let i = 0; i < histories.length; i++) out.set(counts, i * (n + 1));
      return out;
    },
  };
}
