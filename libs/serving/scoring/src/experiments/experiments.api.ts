import { Type } from '@sinclair/typebox';
import { ErrorSchema, defineRoute, type ApiResponse } from '@seqrec/nest-platform';

const json = (description: string, schema: ApiResponse['schema']): ApiResponse => ({ description, schema });
const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' });
const ModelChoice = Type.Object(
  { name: Name, version: Type.Optional(Type.String({ description: 'a stored version (pinned); absent: the promoted version of `name`, followed as it changes' })) },
  { $id: 'ModelChoice', additionalProperties: false },
);

/** An experiment as `PUT /v1/experiments/{id}` takes it (checked field by field by parseExperiment, which this documents). */
export const ExperimentBodySchema = Type.Object(
  {
    variants: Type.Array(
      Type.Object(
        {
          name: Name,
          share: Type.Number({ exclusiveMinimum: 0, description: "share of the experiment's traffic (normalised over the variants)" }),
          model: Type.Optional(ModelChoice),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 8, description: 'the arms; a variant without `model` answers with the scorer\'s own served model' },
    ),
    holdout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'share of all users kept out (served the default model, reported as `holdout`); default 0' })),
    control: Type.Optional(Type.String({ description: 'the variant the others are compared with; default the first' })),
    k: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'CTR@K: an impression counts as clicked when one of its first K items is clicked; default 10' })),
    attributionMinutes: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_080, description: 'how long after an answer its clicks, carts and purchases are attributed to it; default 60' })),
    shadow: Type.Optional(
      Type.Object(
        { model: ModelChoice, sample: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'share of recommendation requests it scores' }) },
        { additionalProperties: false, description: 'a candidate that scores sampled live requests off the request path, never served' },
      ),
    ),
  },
  { $id: 'ExperimentBody', additionalProperties: false },
);

const Any = (description: string) => Type.Object({}, { additionalProperties: true, description });
const ERRORS: Record<string, ApiResponse> = {
  '400': json('Invalid experiment; `field` names the first offending field, `problems` lists them all', ErrorSchema),
  '401': json('No valid key was given (x-api-key or Authorization: Bearer)', ErrorSchema),
  '403': json('The key is not an admin key (AUTH_ADMIN_KEYS)', ErrorSchema),
};

/** The experiment routes of the scorer (admin role). */
export const experimentsApi = {
  list: defineRoute({
    method: 'get',
    path: '/v1/experiments',
    operationId: 'experiments',
    summary: 'The active experiment (and whether this replica has it in force) and every experiment started',
    responses: { '200': json('Experiments', Any('{active, inForce, experiments}')), ...ERRORS },
  }),
  start: defineRoute({
    method: 'put',
    path: '/v1/experiments/{id}',
    operationId: 'startExperiment',
    summary:
      'Starts (or changes) the active experiment: the one active before is stopped. Every scorer puts it in force within SCORER_EXPERIMENT_POLL_MS, once the models it names are loaded; an id started before continues its counts',
    params: Type.Object({ id: Name }),
    body: ExperimentBodySchema,
    responses: {
      '200': json('The experiment record {config, startedAt}', Any('ExperimentRecord')),
      ...ERRORS,
      '404': json('A model or version the experiment names is not in the model store', ErrorSchema),
      '409': json('A version the experiment names was trained before a user deletion and can no longer be served', ErrorSchema),
    },
  }),
  stop: defineRoute({
    method: 'delete',
    path: '/v1/experiments/{id}',
    operationId: 'stopExperiment',
    summary: 'Stops the experiment: every answer comes from the served model again; its counts and report stay',
    params: Type.Object({ id: Name }),
    responses: { '200': json('Stopped', Any('{id, stoppedAt}')), ...ERRORS, '404': json('Not the active experiment', ErrorSchema) },
  }),
  report: defineRoute({
    method: 'get',
    path: '/v1/experiments/{id}/report',
    operationId: 'experimentReport',
    summary:
      'Per-variant CTR@K, conversion, revenue per impression and mean click position with confidence sequences, each variant against the control with an always-valid p-value (mSPRT): valid however often it is read',
    params: Type.Object({ id: Name }),
    responses: { '200': json('The report', Any('{experiment, counts, report}')), ...ERRORS, '404': json('No experiment with this id was started', ErrorSchema) },
  }),
};
