import { Type } from '@sinclair/typebox';
import { IdSchema } from '@seqrec/contracts';
import { ErrorSchema, defineRoute, type ApiResponse } from '@seqrec/nest-platform';

/** The embedding service's HTTP routes: the controller validates requests with these schemas. */

/** Largest k of similar items. */
export const MAX_SIMILAR_K = 200;
export const DEFAULT_SIMILAR_K = 20;

const Item = Type.Object({ itemId: IdSchema });
const User = Type.Object({ userId: IdSchema });
const Session = Type.Object({ sessionId: IdSchema });
const errors = (...statuses: string[]): Record<string, ApiResponse> =>
  Object.fromEntries(statuses.map((s) => [s, { description: s === '400' ? 'Invalid input; `field` names it' : `see the message (${s})`, schema: ErrorSchema }]));

export const embeddingApi = {
  itemVector: defineRoute({
    method: 'get',
    path: '/v1/items/{itemId}/vector',
    operationId: 'itemVector',
    summary: "An item's embedding in the served model (404: unknown item; 409: a graph model has none)",
    params: Item,
    responses: { '200': { description: 'The vector, with the model version' }, ...errors('400', '404', '409', '503') },
  }),
  similar: defineRoute({
    method: 'get',
    path: '/v1/items/{itemId}/similar',
    operationId: 'similarItems',
    summary: 'Nearest items (popular ones for an unknown item)',
    params: Item,
    query: Type.Object({ k: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SIMILAR_K, default: DEFAULT_SIMILAR_K })) }),
    responses: { '200': { description: 'Similar items, best first' }, ...errors('400', '503') },
  }),
  userVector: defineRoute({
    method: 'get',
    path: '/v1/users/{userId}/vector',
    operationId: 'userVector',
    summary: "A user's stored vector and whether it is current for the live window",
    params: User,
    responses: { '200': { description: 'The vector' }, ...errors('400', '404') },
  }),
  features: defineRoute({
    method: 'get',
    path: '/v1/users/{userId}/features',
    operationId: 'userFeatures',
    summary: "Features of a user's live window",
    params: User,
    responses: { '200': { description: 'The features' }, ...errors('400') },
  }),
  sessionFeatures: defineRoute({
    method: 'get',
    path: '/v1/sessions/{sessionId}/features',
    operationId: 'sessionFeatures',
    summary: "Features of an anonymous session's live window (sessions have no stored vector: the scorer encodes them per request)",
    params: Session,
    responses: { '200': { description: 'The features' }, ...errors('400') },
  }),
};
