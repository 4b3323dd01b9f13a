import { Type } from '@sinclair/typebox';
import { ErrorSchema, defineRoute } from '@seqrec/nest-platform';
import { TRAINABLE_MODELS } from './pipeline';

/** The trainer's HTTP routes: the controller validates requests with these schemas. */
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
};
