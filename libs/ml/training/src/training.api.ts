import { Type } from '@sinclair/typebox';
import { ErrorSchema, defineRoute } from '@seqrec/nest-platform';
import { TRAINABLE_MODELS } from './pipeline';

/** The trainer's HTTP routes: the controller validates requests with these schemas. */
/** A model or version name as the model store spells it. */
const storeName = (description?: string) => Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 128, ...(description ? { description } : {}) });

export const trainingApi = {
  train: defineRoute({
    method: 'post',
    path: '/v1/train',
    operationId: 'train',
    summary: 'Start a training run (202 with its id; 409 while another run is in progress)',
    body: Type.Object({
      model: Type.Optional(Type.Union(TRAINABLE_MODELS.map((m) => Type.Literal(m)), { description: 'default TRAIN_MODEL' })),
      epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default TRAIN_EPOCHS' })),
    }),
    responses: {
      '202': { description: 'Started: the run id and where to follow it' },
      '400': { description: 'Invalid body; `field` names it', schema: ErrorSchema },
      '409': { description: 'Another run is in progress (its runId)', schema: ErrorSchema },
    },
  }),
  promote: defineRoute({
    method: 'post',
    path: '/v1/models/{version}/promote',
    operationId: 'promoteModel',
    summary: 'Promote a stored version (a rollback): announced on the models topic, so every scorer and embedding instance loads it',
    params: Type.Object({ version: storeName() }),
    body: Type.Object({
      model: Type.Optional(storeName('the model holding the version; needed only when several do')),
      pin: Type.Optional(Type.Boolean({ description: 'keep it promoted until an operator promotes again: training runs do not replace it (default true)' })),
    }),
    responses: {
      '200': { description: 'Promoted (or already the promoted one: `alreadyPromoted`), and announced' },
      '400': { description: 'Invalid version name or body; `field` names it', schema: ErrorSchema },
      '404': { description: 'No stored version of that name', schema: ErrorSchema },
      '409': { description: 'Trained before the latest user deletion (`reason: trained_before_deletion`), or the version name is in several models', schema: ErrorSchema },
      '503': { description: 'Promoted in the store, but the announcement could not be published: retry', schema: ErrorSchema },
    },
  }),
};
