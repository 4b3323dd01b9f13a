import { HttpException, HttpStatus } from '@nestjs/common';
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * HTTP APIs described once: each route's path and query parameters, body and answers are TypeBox
 * schemas ({@link ApiRoute}). {@link requestParsers} validates requests against them (a 400 naming
 * the first bad field) and {@link openApiDocument} writes the OpenAPI 3.1 document from the same
 * objects. A schema with an `$id` becomes a named component of the document (`#/components/schemas/<$id>`).
 */

/** The body of every error answer of the seqrec APIs. */
export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.Optional(Type.String()),
    field: Type.Optional(Type.String({ description: 'the offending field: a query or path parameter, or a path in the body (`requests/0/items`)' })),
    message: Type.String(),
  },
  { $id: 'Error' },
);

export interface ApiResponse {
  description: string;
  /** The body; none for an empty answer. */
  schema?: TSchema;
  headers?: Record<string, { description?: string; schema: TSchema }>;
}

/** One route: everything its validation and its OpenAPI entry are made of. */
export interface ApiRoute<P extends TObject = TObject, Q extends TObject = TObject, B extends TSchema = TSchema> {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path, `{name}` for a path parameter (`/v1/items/{itemId}/similar`). */
  path: string;
  operationId: string;
  summary: string;
  /** Path parameters (strings); a property's `description` documents the parameter. */
  params?: P;
  /** Query parameters; integer properties are read from their decimal digits. */
  query?: Q;
  /** The JSON body (required when given). */
  body?: B;
  /** Answers by status code. */
  responses: Record<string, ApiResponse>;
}

/** Keeps the schema types of a route literal (for {@link requestParsers}). */
export function defineRoute<P extends TObject = TObject, Q extends TObject = TObject, B extends TSchema = TSchema>(route: ApiRoute<P, Q, B>): ApiRoute<P, Q, B> {
  return route;
}

/** The platform's 400 answer: `field` names the offending field, and the message starts with it. */
export function badRequest(field: string, message: string): HttpException {
  return new HttpException({ statusCode: 400, error: 'Bad Request', field, message: `${field}: ${message}` }, HttpStatus.BAD_REQUEST);
}

export interface RequestParsers<P extends TObject, Q extends TObject, B extends TSchema> {
  params(value: unknown): Static<P>;
  query(value: unknown): Static<Q>;
  body(value: unknown): Static<B>;
}

/**
 * Compiled checks of a route's parameters, query and body: each returns its input, typed, or throws
 * {@link badRequest} naming the first bad field (`body` when the body itself is the wrong kind) and
 * what the schema expects there. A part the route does not declare is not checked.
 */
export function requestParsers<P extends TObject, Q extends TObject, B extends TSchema>(route: ApiRoute<P, Q, B>): RequestParsers<P, Q, B> {
  return {
    params: parser(route.params, 'params', false) as (v: unknown) => Static<P>,
    query: parser(route.query, 'query', true) as (v: unknown) => Static<Q>,
    body: parser(route.body, 'body', false) as (v: unknown) => Static<B>,
  };
}

function parser(schema: TSchema | undefined, root: string, fromStrings: boolean): (value: unknown) => unknown {
  if (!schema) return (value) => value;
  const check = TypeCompiler.Compile(schema);
  const integers = fromStrings && schema['properties'] ? Object.keys(schema['properties']).filter((k) => schema['properties'][k].type === 'integer') : [];
  return (input) => {
    const value = integers.length > 0 ? digitsToIntegers(input, integers) : input;
    if (check.Check(value)) return value;
    const first = check.Errors(value).First();
    const field = first?.path ? first.path.slice(1) : root;
    throw badRequest(field, first ? `${expectation(first.schema)}${got(first.value)}` : 'invalid');
  };
}

/** A query's integer parameters given as decimal digits, as numbers (anything else is left to fail the check). */
function digitsToIntegers(input: unknown, keys: string[]): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const out: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const k of keys) if (typeof out[k] === 'string' && /^\d+$/.test(out[k] as string)) out[k] = Number(out[k]);
  return out;
}

/** What a schema accepts, in words: `expected an integer from 1 to 200`. */
export function expectation(schema: TSchema): string {
  const s = schema as Record<string, unknown>;
  if (s['const'] !== undefined) return `expected ${JSON.stringify(s['const'])}`;
  const anyOf = s['anyOf'] as Array<Record<string, unknown>> | undefined;
  if (anyOf?.every((x) => x['const'] !== undefined)) return `expected one of ${anyOf.map((x) => JSON.stringify(x['const'])).join(', ')}`;
  const range = (min: unknown, max: unknown, unit: string) =>
    min !== undefined && max !== undefined ? ` of ${min} to ${max} ${unit}` : min !== undefined ? ` of at least ${min} ${unit}` : max !== undefined ? ` of at most ${max} ${unit}` : '';
  const bounds = (min: unknown, max: unknown) =>
    min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` ≥ ${min}` : max !== undefined ? ` ≤ ${max}` : '';
  switch (s['type']) {
    case 'string':
      return `expected a string${range(s['minLength'], s['maxLength'], 'characters')}`;
    case 'integer':
      return `expected an integer${bounds(s['minimum'], s['maximum'])}`;
    case 'number':
      return `expected a number${bounds(s['minimum'], s['maximum'])}`;
    case 'boolean':
      return 'expected a boolean';
    case 'array':
      return `expected an array${range(s['minItems'], s['maxItems'], 'items')}`;
    case 'object':
      return 'expected a JSON object';
    default:
      return 'invalid';
  }
}

function got(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.length <= 40 ? `, got ${JSON.stringify(value)}` : `, got ${value.length} characters`;
  if (Array.isArray(value)) return `, got an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return ', got an object';
  return `, got ${JSON.stringify(value)}`;
}

export interface OpenApiOptions {
  info: { title: string; version: string; description?: string };
  securitySchemes?: Record<string, unknown>;
  /** Requirements applying to every route. */
  security?: Array<Record<string, string[]>>;
}

/**
 * The OpenAPI 3.1 document of `routes`. Every subschema with an `$id` is written once under
 * `components.schemas` and referenced from where it is used; two different schemas with one `$id`
 * are an error.
 */
export function openApiDocument(options: OpenApiOptions, routes: readonly ApiRoute[]): Record<string, unknown> {
  const components = new Map<string, unknown>();
  const json = (schema: TSchema) => toJsonSchema(schema, components);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters = [...parametersOf(r.params, 'path', json), ...parametersOf(r.query, 'query', json)];
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      responses[status] = {
        description: res.description,
        ...(res.headers ? { headers: Object.fromEntries(Object.entries(res.headers).map(([h, v]) => [h, { ...(v.description ? { description: v.description } : {}), schema: json(v.schema) }])) } : {}),
        ...(res.schema ? { content: { 'application/json': { schema: json(res.schema) } } } : {}),
      };
    }
    (paths[r.path] ??= {})[r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(r.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: options.info,
    ...(options.security ? { security: options.security } : {}),
    paths,
    components: {
      ...(options.securitySchemes ? { securitySchemes: options.securitySchemes } : {}),
      schemas: Object.fromEntries([...components].sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}

function parametersOf(schema: TObject | undefined, where: 'path' | 'query', json: (s: TSchema) => unknown): unknown[] {
  if (!schema) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, prop]) => {
    const { description, ...rest } = json(prop) as Record<string, unknown>;
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

/** `schema` as plain JSON Schema, `$id` subschemas replaced by references to `components`. */
function toJsonSchema(schema: unknown, components: Map<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => toJsonSchema(s, components));
  if (typeof schema !== 'object' || schema === null) return schema;
  const { $id, ...rest } = schema as Record<string, unknown>;
  const plain = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, toJsonSchema(v, components)]));
  if (typeof $id !== 'string') return plain;
  const known = components.get($id);
  if (known === undefined) components.set($id, plain);
  else if (JSON.stringify(known) !== JSON.stringify(plain)) throw new Error(`two different schemas are named ${$id}`);
  return { $ref: `#/components/schemas/${$id}` };
}
