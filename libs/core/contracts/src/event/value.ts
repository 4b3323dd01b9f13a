import { Type, type Static } from '@sinclair/typebox';

/** Behaviour types, in funnel order. The numeric code of a type is its index here (used by compact encodings). */
export const EVENT_TYPES = ['view', 'click', 'search', 'add_to_cart', 'purchase'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_TYPE_CODE: Readonly<Record<EventType, number>> = Object.freeze(
  Object.fromEntries(EVENT_TYPES.map((t, i) => [t, i])) as Record<EventType, number>,
);

/** Longest accepted id (event, user, session, item), in UTF-16 code units. */
export const MAX_ID_LENGTH = 128;
/** Longest accepted search query. */
export const MAX_QUERY_LENGTH = 512;

/** An id (event, user, session, item): 1 to {@link MAX_ID_LENGTH} UTF-16 code units. */
export const IdSchema = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH });

/** Fields shared by the raw and the normalised event. */
const common = {
  eventId: IdSchema,
  userId: Type.Optional(IdSchema),
  sessionId: Type.Optional(IdSchema),
  type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
  itemId: Type.Optional(IdSchema),
  query: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_QUERY_LENGTH })),
  context: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
};

/**
 * A clickstream event as producers send it (raw topic or `POST /v1/events`).
 *
 * `ts` is epoch milliseconds or an ISO-8601 string; `itemId` is required for every type but
 * `search`, `query` only for `search`. At least one of `userId` and `sessionId` is required: the
 * event's subject (see `eventSubject`) is the user when there is one, else the anonymous session;
 * an event with both is a logged-in shopper whose session window merges into the user's once. Unknown top-level fields are not an error: the ingester
 * moves them into `context`.
 */
export const RawEventSchema = Type.Object(
  { ...common, ts: Type.Union([Type.Number(), Type.String({ maxLength: 64 })]) },
  { additionalProperties: true, $id: 'RawEventV1' },
);
export type RawEvent = Static<typeof RawEventSchema>;

/**
 * The normalised event on the events topic: `ts` is epoch ms, unknown fields live in `context`.
 */
export const EventSchema = Type.Object({ ...common, ts: Type.Integer({ minimum: 0 }) }, { additionalProperties: false, $id: 'EventV1' });
export type EventV1 = Static<typeof EventSchema>;
