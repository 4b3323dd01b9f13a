import { Type, type Static } from '@sinclair/typebox';
import { IdSchema as Id, MAX_ID_LENGTH } from '@seqrec/contracts';
import { ErrorSchema, defineRoute, openApiDocument, type ApiResponse } from '@seqrec/nest-platform';
import { RulesSchema, rulesQuery } from './rules';
import { experimentsApi } from './experiments/experiments.api';

/**
 * The scorer's HTTP API, described once: the controller validates requests with these schemas, the
 * service's answer types are theirs, and `/openapi.json` (checked in as `apps/scorer/openapi.json`,
 * `npm run openapi`) is written from them. Limits an operator sets (SCORER_MAX_K, ...) are named in
 * the document and enforced with their configured values ({@link scorerApi}).
 */

export const ModelRefSchema = Type.Object({ name: Type.String(), version: Type.String() }, { $id: 'Model' });

/** The experiment variant that answered (only while an experiment runs). */
export const ExperimentRefSchema = Type.Object(
  { id: Type.String({ description: 'the experiment' }), variant: Type.String({ description: 'the variant this shopper is assigned (sticky), or holdout' }) },
  { $id: 'ExperimentRef' },
);

const RequestId = Type.String({
  description: 'this answer\'s id: pass it back as `requestId` on the click, cart or purchase events of its items, so the experiment report attributes them to this answer exactly',
});

/** How fresh the user's live window was when scored. */
export const SequenceFreshnessSchema = Type.Object(
  {
    events: Type.Integer({ description: 'events in the live window (0: unknown user)' }),
    lastEventTs: Type.Union([Type.Integer(), Type.Null()], { description: 'epoch ms of the newest event (one-second resolution)' }),
    ageMs: Type.Union([Type.Integer(), Type.Null()], { description: 'ms from the newest event to this answer' }),
    unknownItems: Type.Integer({ description: 'window events whose item the model does not know (not scored)' }),
  },
  { $id: 'Sequence' },
);

const Fallback = Type.Literal('popularity', { $id: 'Fallback' });
export const FallbackReasonSchema = Type.Union([Type.Literal('unknown_user'), Type.Literal('unknown_session'), Type.Literal('no_known_items'), Type.Literal('unknown_item')], { $id: 'FallbackReason' });
const PopularitySourceSchema = Type.Union([Type.Literal('trending'), Type.Literal('training')], {
  $id: 'PopularitySource',
  description:
    "with fallback popularity: trending, the live time-decayed item counts (TRENDING_HALF_LIFE_MINUTES; cached SCORER_TRENDING_CACHE_MS); training, the model's training-data popularity (while nothing is trending)",
});
/** The answer's shopper: `userId`, or `sessionId` for an anonymous session. */
const subjectIds = {
  userId: Type.Optional(Type.String({ description: 'the user (absent for a session)' })),
  sessionId: Type.Optional(Type.String({ description: 'the anonymous session (absent for a user)' })),
};

/** Why an item is recommended: the window's events that drove its score (`explain=true`). */
export const ExplanationSchema = Type.Object(
  {
    reason: Type.Union([Type.String(), Type.Null()], { description: 'the strongest events in words ("viewed i00042, added i00007 to cart"); null when no event of the window pushed the item up' }),
    events: Type.Array(
      Type.Object({
        itemId: Type.String(),
        type: Type.String({ description: 'event type' }),
        weight: Type.Number({ description: "how much the item's score falls when this event is left out of the window (occlusion with the served model)" }),
      }),
      { description: 'the events that pushed the item up, strongest first (at most 3)' },
    ),
  },
  { $id: 'Explanation' },
);

/** Set on an item the model has not seen, scored through its content map. */
const ItemSource = Type.Literal('content', {
  $id: 'ItemSource',
  description: 'content: the model has not seen this item (posted to the catalogue after training); its vector comes from its catalogue content (category, brand, title, attributes, image vector) through the content map fitted at training time',
});

export const ScoredItemSchema = Type.Object({ itemId: Type.String(), score: Type.Number(), source: Type.Optional(ItemSource), explanation: Type.Optional(ExplanationSchema) }, { $id: 'ScoredItem' });

const ScoredFrom = Type.Union([Type.Literal('live_window'), Type.Literal('stored_vector'), Type.Literal('popularity')], {
  $id: 'ScoredFrom',
  description:
    "live_window: the window was encoded now; stored_vector: the embedding service's user vector, current for this window (same model version, newest event and length), was used (int8-quantised); popularity: fallback",
});

export const RecommendationsSchema = Type.Object(
  {
    requestId: RequestId,
    experiment: Type.Optional(ExperimentRefSchema),
    ...subjectIds,
    items: Type.Array(ScoredItemSchema),
    model: ModelRefSchema,
    scoredFrom: ScoredFrom,
    fallback: Type.Optional(Fallback),
    fallbackReason: Type.Optional(FallbackReasonSchema),
    popularity: Type.Optional(PopularitySourceSchema),
    sequence: SequenceFreshnessSchema,
  },
  { $id: 'Recommendations' },
);

export const RankedItemSchema = Type.Object(
  {
    itemId: Type.String(),
    score: Type.Union([Type.Number(), Type.Null()], {
      description: 'null for an item neither the model nor its content map can score (listed last when sorted, unless blended with a search engine); an item scored from its content says so in source',
    }),
    source: Type.Optional(ItemSource),
    explanation: Type.Optional(ExplanationSchema),
    blended: Type.Optional(
      Type.Number({
        description:
          "with engineScores or enginePositions: w · z(personal) + (1 − w) · z(engine) over the candidates; an item the model does not know has personal z 0, so it keeps its engine position. `sort` orders by it",
      }),
    ),
  },
  { $id: 'RankedItem' },
);

export const RankSchema = Type.Object(
  {
    requestId: RequestId,
    experiment: Type.Optional(ExperimentRefSchema),
    ...subjectIds,
    items: Type.Array(RankedItemSchema),
    sorted: Type.Boolean(),
    model: ModelRefSchema,
    scoredFrom: ScoredFrom,
    fallback: Type.Optional(Fallback),
    fallbackReason: Type.Optional(FallbackReasonSchema),
    popularity: Type.Optional(PopularitySourceSchema),
    sequence: SequenceFreshnessSchema,
  },
  { $id: 'Rank' },
);

export const SimilarSchema = Type.Object(
  { requestId: RequestId, itemId: Type.String(), items: Type.Array(ScoredItemSchema), model: ModelRefSchema, fallback: Type.Optional(Fallback), fallbackReason: Type.Optional(FallbackReasonSchema) },
  { $id: 'Similar' },
);

/** Limits of the requests (SCORER_MAX_K, SCORER_MAX_BATCH_USERS, SCORER_MAX_CANDIDATES); unset: not part of the schema. */
export interface ScorerLimits {
  maxK?: number;
  maxBatchUsers?: number;
  maxCandidates?: number;
}

export const DEFAULT_K = 20;

const json = (description: string, schema: ApiResponse['schema']): ApiResponse => ({ description, schema });
const retryAfter = { 'Retry-After': { schema: Type.Integer() } };
const ERRORS: Record<string, ApiResponse> = {
  '400': json('Invalid input; `field` names the offending field (a path such as `requests/0/items` in bodies)', ErrorSchema),
  '401': json(
    'Client credentials are configured (AUTH_CLIENT_KEYS or SCORER_API_KEYS, or AUTH_REQUIRED) and no valid key was given (x-api-key or Authorization: Bearer)',
    ErrorSchema,
  ),
  '403': json('The key is valid for another role only (producer or admin), not for scorer clients', ErrorSchema),
  '429': {
    description:
      'Shed: the scoring queue is full (SCORER_MAX_QUEUE) or behind (a request waited longer than SCORER_MAX_QUEUE_WAIT_MS), or this key exceeded its rate limit (AUTH_CLIENT_RATE, AUTH_CLIENT_BURST); retry after Retry-After seconds',
    headers: retryAfter,
    schema: ErrorSchema,
  },
  '503': {
    description:
      'No model version is loaded yet (no popularity fallback either), or the scorer is overloaded (event-loop delay above SCORER_MAX_EVENT_LOOP_DELAY_MS); retry after Retry-After seconds',
    headers: retryAfter,
    schema: ErrorSchema,
  },
};

/** The scorer's routes; with `limits`, the request schemas enforce them. */
export function scorerApi(limits: ScorerLimits = {}) {
  const at = (max: number | undefined, key: 'maximum' | 'maxItems') => (max === undefined ? {} : { [key]: max });
  const k = Type.Integer({ minimum: 1, ...at(limits.maxK, 'maximum'), default: DEFAULT_K, description: `Number of items (default ${DEFAULT_K}, at most SCORER_MAX_K)` });
  const RankRequest = Type.Object(
    {
      userId: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: 'the shopper: a user, or (exactly one of the two) sessionId' })),
      sessionId: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: "an anonymous session (scored from the session's live window)" })),
      items: Type.Array(Id, { minItems: 1, ...at(limits.maxCandidates, 'maxItems'), description: 'candidate item ids, at most SCORER_MAX_CANDIDATES' }),
      sort: Type.Optional(Type.Boolean({ default: false, description: "sort best first instead of keeping the caller's order" })),
      rules: Type.Optional(RulesSchema),
      query: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'the search query the candidates answer (search re-ranking); recorded, not yet a model input' })),
      engineScores: Type.Optional(
        Type.Array(Type.Number(), { description: "the search engine's relevance of each candidate, in `items` order (higher is better): the answer blends it with the personal score" }),
      ),
      enginePositions: Type.Optional(
        Type.Array(Type.Integer({ minimum: 1 }), { description: "the search engine's 1-based position of each candidate, in `items` order (instead of engineScores)" }),
      ),
      blendWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'share of the personal score in the blend (default SCORER_SEARCH_BLEND_WEIGHT)' })),
      explain: Type.Optional(Type.Boolean({ default: false, description: 'explain each scored candidate by the events of the window that drove it (costs one more scoring of the window per event)' })),
    },
    { $id: 'RankRequest' },
  );
  const kQuery = Type.Object({ k: Type.Optional(k) });
  const sessionRoute = { method: 'get', path: '/v1/sessions/{sessionId}/recommendations', operationId: 'sessionRecommendations', params: Type.Object({ sessionId: Id }) } as const;
  const recommendationsQuery = Type.Object({
    k: Type.Optional(k),
    explain: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: explain each item by the events of the window that drove it (one more scoring of the window per event)' })),
    ...rulesQuery,
  });
  const manyOf = (description: string) => ({ minItems: 1, ...at(limits.maxBatchUsers, 'maxItems'), description });
  return {
    recommendations: defineRoute({
      method: 'get',
      path: '/v1/users/{userId}/recommendations',
      operationId: 'recommendations',
      summary: 'Top-k next items for a user, from the live window: the best k that pass the business rules',
      params: Type.Object({ userId: Id }),
      query: recommendationsQuery,
      responses: { '200': json('Recommendations', RecommendationsSchema), ...ERRORS },
    }),
    sessionRecommendations: defineRoute({
      ...sessionRoute,
      summary: "Top-k next items for an anonymous session, from the session's live window (after a login: the user's); rules as for a user",
      query: recommendationsQuery,
      responses: { '200': json('Recommendations', RecommendationsSchema), ...ERRORS },
    }),
    recommendationsBatch: defineRoute({
      method: 'post',
      path: '/v1/recommendations/batch',
      operationId: 'recommendationsBatch',
      summary: 'Top-k next items for many users (one forward pass)',
      body: Type.Object({ userIds: Type.Array(Id, manyOf('at most SCORER_MAX_BATCH_USERS')), k: Type.Optional(k), rules: Type.Optional(RulesSchema) }),
      responses: { '200': json('One answer per user, in request order', Type.Object({ results: Type.Array(RecommendationsSchema) })), ...ERRORS },
    }),
    rank: defineRoute({
      method: 'post',
      path: '/v1/rank',
      operationId: 'rank',
      summary: "Scores of the caller's candidate items for a user (re-ranking)",
      body: RankRequest,
      responses: { '200': json("Scores in the caller's order, or sorted best first when `sort`", RankSchema), ...ERRORS },
    }),
    rankBatch: defineRoute({
      method: 'post',
      path: '/v1/rank/batch',
      operationId: 'rankBatch',
      summary: 'Many rank requests at once',
      body: Type.Object({ requests: Type.Array(RankRequest, manyOf('at most SCORER_MAX_BATCH_USERS')) }),
      responses: { '200': json('One answer per request, in request order', Type.Object({ results: Type.Array(RankSchema) })), ...ERRORS },
    }),
    similar: defineRoute({
      method: 'get',
      path: '/v1/items/{itemId}/similar',
      operationId: 'similarItems',
      summary: "Items whose embeddings are closest (cosine) to an item's",
      params: Type.Object({ itemId: Id }),
      query: kQuery,
      responses: { '200': json('Similar items, best first', SimilarSchema), ...ERRORS },
    }),
  };
}

export type ModelRef = Static<typeof ModelRefSchema>;
export type SequenceFreshness = Static<typeof SequenceFreshnessSchema>;
export type FallbackReason = Static<typeof FallbackReasonSchema>;
export type ScoredItem = Static<typeof ScoredItemSchema>;
export type Explanation = Static<typeof ExplanationSchema>;
export type RecommendationsAnswer = Static<typeof RecommendationsSchema>;
export type RankedItem = Static<typeof RankedItemSchema>;
export type RankAnswer = Static<typeof RankSchema>;
export type SimilarAnswer = Static<typeof SimilarSchema>;
export type RankRequest = Static<NonNullable<ReturnType<typeof scorerApi>['rank']['body']>>;

/** The scorer's OpenAPI document (`GET /openapi.json`): the routes with the limits named, not fixed. */
export function scorerOpenApi(): Record<string, unknown> {
  return openApiDocument(
    {
      info: {
        title: 'seqrec scorer',
        version: '1',
        description:
          "Next-item recommendations and re-ranking scores from each shopper's live behaviour window and the promoted " +
          'sequence model. Every answer names the model version (`model`) and, for user answers, how fresh the window was ' +
          "(`sequence`). Anonymous shoppers are scored from their session's window (`/v1/sessions/{sessionId}/...`, " +
          '`sessionId` in rank requests). Fallback: a user or session with no window, or none of whose items the model ' +
          'knows, gets the live trending items (`fallback: "popularity"`, `fallbackReason`, `popularity`: trending, or ' +
          "the model's training-data popularity while nothing is trending); an unknown item gets popular items as " +
          'similar items; unknown candidate items are scored `null` and sorted last. Business rules (only available items, ' +
          'categories, excluded ids, a price range, items the user interacted with, at most N per category) are applied ' +
          'inside the top-k search: the answer is the best k items that pass them (SCORER_RULES_* set the defaults).',
      },
      security: [{ apiKey: [] }, { bearer: [] }],
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' }, bearer: { type: 'http', scheme: 'bearer' } },
    },
    [...Object.values(scorerApi()), ...Object.values(experimentsApi)],
  );
}
