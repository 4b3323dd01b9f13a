import type { EvalCase, LeaveOneOutSplit, SequenceDataset } from './types';

export interface LeaveOneOutOptions {
  /**
   * Users with fewer items stay whole in `train` and get no validation or test case. Default 3,
   * the rule of the original SASRec code (kang205/SASRec `util.py`, `nfeedback < 3`): the smallest
   * length that leaves at least one training item before the validation target. (The current
   * pmixer/SASRec.pytorch uses 4.) Must be at least 3.
   */
  minLength?: number;
}

/**
 * Chronological leave-one-out, per user (sequences are already oldest first):
 *
 * - test case: history = every item but the last, target = the last item;
 * - validation case: history = every item but the last two, target = the second-to-last;
 * - train: every item but the last two (what a model sees while epochs are selected).
 *
 * For the final test run a model should be fitted on `trainingSequences(split, 'test')`
 * (everything before each test item). Users shorter than `minLength` appear only in `train`, with
 * all their items, as in the published SASRec code. `EvalCase.user` is the user's index in the
 * dataset. Histories and training sequences are views (`subarray`) of the dataset's arrays: read
 * them, never write to them.
 */
export function leaveOneOut(dataset: SequenceDataset, options: LeaveOneOutOptions = {}): LeaveOneOutSplit {
  const minLength = options.minLength ?? 3;
  if (!Number.isInteger(minLength) || minLength < 3) throw new RangeError(`minLength must be an integer >= 3, got ${minLength}`);
  const train: Int32Array[] = [];
  const trainTypes: Uint8Array[] | undefined = dataset.types ? [] : undefined;
  const valid: EvalCase[] = [];
  const test: EvalCase[] = [];
  for (let u = 0; u < dataset.sequences.length; u++) {
    const seq = dataset.sequences[u]!;
    const types = dataset.types?.[u];
    const n = seq.length;
    if (n < minLength) {
      train.push(seq);
      if (trainTypes) trainTypes.push(types!);
      continue;
    }
    train.push(seq.subarray(0, n - 2));
    if (trainTypes) trainTypes.push(types!.subarray(0, n - 2));
    valid.push(evalCase(u, seq, types, n - 2));
    test.push(evalCase(u, seq, types, n - 1));
  }
  const split: LeaveOneOutSplit = { dataset, train, valid, test, minLength };
  if (trainTypes) split.trainTypes = trainTypes;
  return split;
}

function evalCase(user: number, seq: Int32Array, types: Uint8Array | undefined, at: number): EvalCase {
  const c: EvalCase = { user, history: seq.subarray(0, at), target: seq[at]! };
  if (types) c.historyTypes = types.subarray(0, at);
  return c;
}

/**
 * What a model may train on before being evaluated on `phase`: for 'valid' the split's `train`;
 * for 'test' every user's sequence without its test item (train plus the validation item; users
 * without cases keep their whole sequence).
 */
export function trainingSequences(split: LeaveOneOutSplit, phase: 'valid' | 'test'): Int32Array[] {
  if (phase === 'valid') return split.train;
  const minLength = split.minLength ?? 3;
  return split.dataset.sequences.map((s) => (s.length < minLength ? s : s.subarray(0, s.length - 1)));
}

/** Event types matching `trainingSequences(split, phase)`, when the dataset has types. */
export function trainingTypes(split: LeaveOneOutSplit, phase: 'valid' | 'test'): Uint8Array[] | undefined {
  if (!split.dataset.types) return undefined;
  if (phase === 'valid') return split.trainTypes;
  const minLength = split.minLength ?? 3;
  return split.dataset.types.map((t) => (t.length < minLength ? t : t.subarray(0, t.length - 1)));
}

/**
 * Session-style cases: one per position after the first of every sequence, predicting that item
 * from the items before it (GRU4Rec's next-click evaluation).
 */
export function sessionCases(dataset: SequenceDataset): EvalCase[] {
  const cases: EvalCase[] = [];
  for (let s = 0; s < dataset.sequences.length; s++) {
    const seq = dataset.sequences[s]!;
    const types = dataset.types?.[s];
    for (let t = 1; t < seq.length; t++) cases.push(evalCase(s, seq, types, t));
  }
  return cases;
}
