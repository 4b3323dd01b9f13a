/**
 * The scorer's OpenAPI 3.1 document, written by hand next to the routes it describes. Served at
 * `/openapi.json` and checked in as `apps/scorer/openapi.json`; a test keeps the two equal and
 * checks that every documented path is a registered route.
 */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const err = (description: string) => ({ description, content: json(ref('Error')) });

const errors = {
  '400': err('Invalid input; `field` names the offending field (JSON-pointer-like path for bodies)'),
  '401': err('Client credentials are configured (AUTH_CLIENT_KEYS or SCORER_API_KEYS, or AUTH_REQUIRED) and no valid key was given (x-api-key or Authorization: Bearer)'),
  '403': err('The key is valid for another role only (producer or admin), not for scorer clients'),
  '429': {
    description:
      'Shed: the scoring queue is full (SCORER_MAX_QUEUE) or behind (a request waited longer than SCORER_MAX_QUEUE_WAIT_MS), or this key exceeded its rate limit (AUTH_CLIENT_RATE, AUTH_CLIENT_BURST); retry after Retry-After seconds',
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
    content: json(ref('Error')),
  },
  '503': {
    description:
      'No model version is loaded yet (no popularity fallback either), or the scorer is overloaded (event-loop delay above SCORER_MAX_EVENT_LOOP_DELAY_MS); retry after Retry-After seconds',
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
    content: json(ref('Error')),
  },
};

const kParam = {
  name: 'k',
  in: 'query',
  required: false,
  description: 'Number of items (default 20, at most SCORER_MAX_K)',
  schema: { type: 'integer', minimum: 1, default: 20 },
};
const id = { type: 'string', minLength: 1, maxLength: 128 };
const security = [{ apiKey: [] }, { bearer: [] }];

export const SCORER_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'seqrec scorer',
    version: '1',
    description:
      'Next-item recommendations and re-ranking scores from each shopper\'s live behaviour window and the promoted ' +
      'sequence model. Every answer names the model version (`model`) and, for user answers, how fresh the window was ' +
      '(`sequence`). Fallback: a user with no window, or none of whose items the model knows, gets the model\'s ' +
      'popularity ranking (`fallback: "popularity"`, `fallbackReason`); an unknown item gets popular items as ' +
      'similar items; unknown candidate items are scored `null` and sorted last. Items the user bought are left out of ' +
      'recommendations unless SCORER_EXCLUDE_PURCHASED=false.',
  },
  security,
  paths: {
    '/v1/users/{userId}/recommendations': {
      get: {
        operationId: 'recommendations',
        summary: 'Top-k next items for a user, from the live window',
        parameters: [{ name: 'userId', in: 'path', required: true, schema: id }, kParam],
        responses: { '200': { description: 'Recommendations', content: json(ref('Recommendations')) }, ...errors },
      },
    },
    '/v1/recommendations/batch': {
      post: {
        operationId: 'recommendationsBatch',
        summary: 'Top-k next items for many users (one forward pass)',
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['userIds'],
            properties: { userIds: { type: 'array', items: id, minItems: 1, description: 'at most SCORER_MAX_BATCH_USERS' }, k: { type: 'integer', minimum: 1, default: 20 } },
          }),
        },
        responses: {
          '200': { description: 'One answer per user, in request order', content: json({ type: 'object', required: ['results'], properties: { results: { type: 'array', items: ref('Recommendations') } } }) },
          ...errors,
        },
      },
    },
    '/v1/rank': {
      post: {
        operationId: 'rank',
        summary: "Scores of the caller's candidate items for a user (re-ranking)",
        requestBody: { required: true, content: json(ref('RankRequest')) },
        responses: { '200': { description: 'Scores in the caller\'s order, or sorted best first when `sort`', content: json(ref('Rank')) }, ...errors },
      },
    },
    '/v1/rank/batch': {
      post: {
        operationId: 'rankBatch',
        summary: 'Many rank requests at once',
        requestBody: {
          required: true,
          content: json({ type: 'object', required: ['requests'], properties: { requests: { type: 'array', items: ref('RankRequest'), minItems: 1 } } }),
        },
        responses: {
          '200': { description: 'One answer per request, in request order', content: json({ type: 'object', required: ['results'], properties: { results: { type: 'array', items: ref('Rank') } } }) },
          ...errors,
        },
      },
    },
    '/v1/items/{itemId}/similar': {
      get: {
        operationId: 'similarItems',
        summary: 'Items whose embeddings are closest (cosine) to an item\'s',
        parameters: [{ name: 'itemId', in: 'path', required: true, schema: id }, kParam],
        responses: { '200': { description: 'Similar items, best first', content: json(ref('Similar')) }, ...errors },
      },
    },
  },
  components: {
    securitySchemes: {
      apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      bearer: { type: 'http', scheme: 'bearer' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['statusCode', 'message'],
        properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
      },
      Model: { type: 'object', required: ['name', 'version'], properties: { name: { type: 'string' }, version: { type: 'string' } } },
      Sequence: {
        type: 'object',
        required: ['events', 'lastEventTs', 'ageMs', 'unknownItems'],
        properties: {
          events: { type: 'integer', description: 'events in the live window (0: unknown user)' },
          lastEventTs: { type: ['integer', 'null'], description: 'epoch ms of the newest event (one-second resolution)' },
          ageMs: { type: ['integer', 'null'], description: 'ms from the newest event to this answer' },
          unknownItems: { type: 'integer', description: 'window events whose item the model does not know (not scored)' },
        },
      },
      Fallback: { type: 'string', enum: ['popularity'] },
      FallbackReason: { type: 'string', enum: ['unknown_user', 'no_known_items', 'unknown_item'] },
      ScoredItem: { type: 'object', required: ['itemId', 'score'], properties: { itemId: { type: 'string' }, score: { type: 'number' } } },
      Recommendations: {
        type: 'object',
        required: ['userId', 'items', 'model', 'scoredFrom', 'sequence'],
        properties: {
          userId: { type: 'string' },
          items: { type: 'array', items: ref('ScoredItem') },
          model: ref('Model'),
          scoredFrom: ref('ScoredFrom'),
          fallback: ref('Fallback'),
          fallbackReason: ref('FallbackReason'),
          sequence: ref('Sequence'),
        },
      },
      ScoredFrom: {
        type: 'string',
        enum: ['live_window', 'stored_vector', 'popularity'],
        description:
          'live_window: the window was encoded now; stored_vector: the embedding service\'s user vector, current for this window (same model version, newest event and length), was used (int8-quantised); popularity: fallback',
      },
      RankRequest: {
        type: 'object',
        required: ['userId', 'items'],
        properties: {
          userId: id,
          items: { type: 'array', items: id, minItems: 1, description: 'candidate item ids, at most SCORER_MAX_CANDIDATES' },
          sort: { type: 'boolean', default: false, description: 'sort best first instead of keeping the caller\'s order' },
        },
      },
      Rank: {
        type: 'object',
        required: ['userId', 'items', 'sorted', 'model', 'scoredFrom', 'sequence'],
        properties: {
          userId: { type: 'string' },
          items: {
            type: 'array',
            items: { type: 'object', required: ['itemId', 'score'], properties: { itemId: { type: 'string' }, score: { type: ['number', 'null'] } } },
          },
          sorted: { type: 'boolean' },
          model: ref('Model'),
          scoredFrom: ref('ScoredFrom'),
          fallback: ref('Fallback'),
          fallbackReason: ref('FallbackReason'),
          sequence: ref('Sequence'),
        },
      },
      Similar: {
        type: 'object',
        required: ['itemId', 'items', 'model'],
        properties: { itemId: { type: 'string' }, items: { type: 'array', items: ref('ScoredItem') }, model: ref('Model'), fallback: ref('Fallback'), fallbackReason: ref('FallbackReason') },
      },
    },
  },
} as const;
