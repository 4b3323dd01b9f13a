/**
 * The one internal shape every data source (dataset files, a replay of the events topic, the
 * synthetic generator) is turned into, and the one interface every model (neural or classic) is
 * trained and evaluated through.
 */

/** Chronological behaviour sequences over a dense item vocabulary. Index 0 is padding, items are 1..numItems. */
export interface SequenceDataset {
  /** e.g. `ml-1m`, `beauty`. */
  name: string;
  /** Items are 1..numItems; 0 is reserved for padding. */
  numItems: number;
  /** External id of each index; `itemIds[0]` is '' (padding). Length numItems + 1. */
  itemIds: string[];
  /** External user id per sequence. */
  users: string[];
  /** Per user, item indices oldest first. */
  sequences: Int32Array[];
  /** Per user and position, the `EVENT_TYPES` code (view/click/...), when the source has event types. */
  types?: Uint8Array[];
  /** Per user and position, epoch ms, when the source has timestamps. */
  timestamps?: Float64Array[];
}

/** A user's history and the held-out next item to rank. */
export interface EvalCase {
  user: number;
  /** Items before the target, oldest first. */
  history: Int32Array;
  /** Event types of `history`, when the dataset has them. */
  historyTypes?: Uint8Array;
  target: number;
}

/**
 * Chronological leave-one-out: per user, the last item is the test target, the second-to-last the
 * validation target; training sees everything before the test item for the test run and everything
 * before the validation item while selecting epochs.
 */
export interface LeaveOneOutSplit {
  dataset: SequenceDataset;
  /** Training sequences (each user's sequence without its last two items). */
  train: Int32Array[];
  trainTypes?: Uint8Array[];
  valid: EvalCase[];
  test: EvalCase[];
  /**
   * Users with fewer items than this were kept whole in `train` and have no validation or test
   * case (the published SASRec code's rule; see `leaveOneOut`).
   */
  minLength?: number;
}

/** What every model implements so the trainer and the evaluator treat them alike. */
export interface Recommender {
  /** Model family, e.g. `sasrec`, `gru4rec`, `pop`. */
  readonly name: string;
  /**
   * Scores of every item for each history: a row-major [histories.length, numItems + 1] matrix
   * (column 0, padding, is ignored). Higher is better.
   */
  scoreBatch(histories: Int32Array[], types?: Uint8Array[]): Promise<Float32Array>;
}
