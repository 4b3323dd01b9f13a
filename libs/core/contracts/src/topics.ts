/**
 * Every Kafka topic seqrec reads or writes, named `<domain>.<visibility>.<entity>.<event>.<version>`.
 * Bump the version suffix on any breaking change of a topic's key or value contract.
 */
export const TOPICS = {
  /** Producers' raw clickstream, one JSON event per message, keyed by user id. Validated by the ingester. */
  CLICKSTREAM_RAW: 'ingest.public.clickstream.raw.1',
  /** Valid, normalised, de-duplicated events ({@link EventV1}), keyed by user id. */
  EVENTS: 'ingest.internal.event.accepted.1',
  /** Dead letters: every rejected input with its original payload and the reason ({@link DeadLetterV1}). */
  EVENTS_DLQ: 'ingest.internal.event.rejected.1',
  /** A user's updated behaviour window after the sequence-builder applied new events: the window codec's bytes ({@link WindowUpdate}). */
  SEQUENCE_UPDATES: 'sequence.internal.window.updated.2',
  /** A newly promoted model version with its metrics ({@link ModelPromotedV1}). */
  MODELS: 'training.internal.model.promoted.1',
  /**
   * The item catalogue: one {@link ItemV1} JSON per message, keyed by item id, the item's whole
   * record; a null value (tombstone) deletes the item. Compacted: the topic keeps each item's last
   * record, so it is the catalogue. Producers write it directly or through `POST /v1/items`.
   */
  ITEMS: 'catalogue.public.item.state.1',
  /**
   * User deletions and objections ({@link UserDeletionV1}), keyed by user id, the user's latest
   * record. Compacted: the topic is the list of deleted and objecting users, read from its beginning
   * by the sequence-builder, the embedding service and every trainer replay (docs/privacy.md).
   */
  USER_DELETIONS: 'privacy.internal.user.deletion.1',
  /**
   * Answers shown while an experiment runs ({@link ImpressionV1}), keyed by the subject: the
   * scorer's feedback join counts them and the events that follow them (docs/experiments.md).
   */
  IMPRESSIONS: 'serving.internal.impression.served.1',
} as const;

/** Topics created with `cleanup.policy=compact` (the latest message per key is kept, not a time window). */
export const COMPACTED_TOPICS: ReadonlySet<string> = new Set([TOPICS.ITEMS, TOPICS.USER_DELETIONS]);

/**
 * Topics that hold personal data seqrec cannot rewrite when a user is deleted (docs/privacy.md):
 * their retention is the exposure window, bounded by PRIVACY_MAX_RETENTION_HOURS.
 */
export const PERSONAL_DATA_TOPICS: ReadonlySet<string> = new Set([TOPICS.CLICKSTREAM_RAW, TOPICS.EVENTS, TOPICS.EVENTS_DLQ, TOPICS.SEQUENCE_UPDATES, TOPICS.IMPRESSIONS]);

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Consumer group ids, one per consuming service; scaled out by running more members of the same group. */
export const GROUPS = {
  INGESTER: 'seqrec-ingester',
  SEQUENCE_BUILDER: 'seqrec-sequence-builder',
  EMBEDDING: 'seqrec-embedding',
  SCORER: 'seqrec-scorer',
  /** The scorer's catalogue view: one group per scorer instance (each must see every change). */
  SCORER_CATALOGUE: 'seqrec-scorer-catalogue',
  /** Writes the items topic into the catalogue store (the ingester). */
  CATALOGUE: 'seqrec-catalogue',
  /** Erases the Redis state of deleted users (the sequence-builder). */
  DELETIONS: 'seqrec-deletions',
  /** Drops deleted users' vectors (the embedding service). */
  EMBEDDING_DELETIONS: 'seqrec-embedding-deletions',
  /** Records deletions in the model store and schedules the retraining that forgets them (the trainer). */
  TRAINER_DELETIONS: 'seqrec-trainer-deletions',
  /** Counts impressions for the experiment report (the scorer; shared by its replicas). */
  EXPERIMENT_IMPRESSIONS: 'seqrec-experiment-impressions',
  /** Joins clicks, carts and purchases to impressions (the scorer; shared by its replicas). */
  EXPERIMENT_FEEDBACK: 'seqrec-experiment-feedback',
  /** Erases deleted users' impressions from the experiment store (the scorer). */
  EXPERIMENT_DELETIONS: 'seqrec-experiment-deletions',
} as const;
