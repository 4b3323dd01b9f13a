import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpException } from '@nestjs/common';
import { Type } from '@sinclair/typebox';
import { defineRoute, openApiDocument, requestParsers } from './http-api';

const Item = Type.Object({ itemId: Type.String({ minLength: 1, maxLength: 8 }) }, { $id: 'Item' });
const route = defineRoute({
  method: 'post',
  path: '/v1/things/{thingId}',
  operationId: 'things',
  summary: 'things',
  params: Type.Object({ thingId: Type.String({ maxLength: 4, description: 'the thing' }) }),
  query: Type.Object({ k: Type.Optional(Type.Integer({ minimum: 1, maximum: 9 })) }),
  body: Type.Object({ items: Type.Array(Item, { minItems: 1 }), mode: Type.Optional(Type.Union([Type.Literal('a'), Type.Literal('b')])) }),
  responses: { '200': { description: 'ok', schema: Type.Object({ items: Type.Array(Item) }) } },
});

/** The 400 answer `f` throws. */
function answer(f: () => unknown): { field: string; message: string } {
  try {
    f();
  } catch (err) {
    return (err as HttpException).getResponse() as { field: string; message: string };
  }
  assert.fail('no 400');
}

describe(requestParsers.name, () => {
  const sut = requestParsers(route);

  it('returns valid input, query integers read from their digits', () => {
    assert.deepEqual(sut.query({ k: '7' }), { k: 7 });
    assert.deepEqual(sut.body({ items: [{ itemId: 'x' }], mode: 'b' }), { items: [{ itemId: 'x' }], mode: 'b' });
  });

  it('names the first bad field as a path and says what the schema expects there', () => {
    assert.deepEqual(answer(() => sut.query({ k: '7.0' })), { statusCode: 400, error: 'Bad Request', field: 'k', message: 'k: expected an integer from 1 to 9, got "7.0"' });
    assert.equal(answer(() => sut.params({ thingId: 'toolong' })).message, 'thingId: expected a string of at most 4 characters, got "toolong"');
    assert.equal(answer(() => sut.body({ items: [{ itemId: 'x' }, {}] })).message, 'items/1/itemId: expected a string of 1 to 8 characters');
    assert.equal(answer(() => sut.body({ items: [{ itemId: 'x' }], mode: 'c' })).message, 'mode: expected one of "a", "b", got "c"');
    assert.equal(answer(() => sut.body('x')).field, 'body');
  });
});

describe(openApiDocument.name, () => {
  it('writes each $id schema once as a component and references it', () => {
    const doc = openApiDocument({ info: { title: 't', version: '1' } }, [route]) as { paths: Record<string, Record<string, Record<string, unknown>>>; components: { schemas: Record<string, unknown> } };
    const op = doc.paths['/v1/things/{thingId}']!['post']!;
    assert.deepEqual(op['parameters'], [
      { name: 'thingId', in: 'path', required: true, description: 'the thing', schema: { maxLength: 4, type: 'string' } },
      { name: 'k', in: 'query', required: false, schema: { minimum: 1, maximum: 9, type: 'integer' } },
    ]);
    assert.deepEqual(Object.keys(doc.components.schemas), ['Item']);
    assert.match(JSON.stringify(op['requestBody']), /"items":\{"minItems":1,"type":"array","items":\{"\$ref":"#\/components\/schemas\/Item"\}\}/);
  });

  it('refuses two different schemas under one $id', () => {
    const other = defineRoute({ ...route, path: '/v1/other', responses: { '200': { description: 'ok', schema: Type.Object({ n: Type.Number() }, { $id: 'Item' }) } } });
    assert.throws(() => openApiDocument({ info: { title: 't', version: '1' } }, [route, other]), /two different schemas are named Item/);
  });
});
