/** Announced on the models topic when the trainer promotes a model version. Keyed by model name. */
export interface ModelPromotedV1 {
  /** Model family, e.g. `sasrec`, `gru4rec`, `pop`. */
  model: string;
  /** Monotonic, sortable version id (e.g. `20261122T101500Z-sasrec`). */
  version: string;
  /** Where the artifact lives (filesystem path or object-store URI). */
  uri: string;
  /** Validation/test metrics of this version, by name (`ndcg@10`, ...). */
  metrics: Record<string, number>;
  /** Epoch ms. */
  promotedAt: number;
}
