import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOO_DEEP, locateJsonProblem, scanJson, splitJsonArray } from './json-scan';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const scan = (s: string, maxDepth = 64) => scanJson(bytes(s), 0, Buffer.byteLength(s), maxDepth);

describe(scanJson.name, () => {
  it('counts object members anywhere, not colons inside strings', () => {
    assert.equal(scan('{}'), 0);
    assert.equal(scan('{"a":1,"b":{"c":[{"d":2}]}}'), 4);
    assert.equal(scan('{"a:b":"c:d","e\\":":"\\"f:"}'), 2);
    assert.equal(scan('[1, "x:y", {"k" : 2}]'), 1);
    // JSON.parse keeps one of two equal keys: the difference is how duplicates are seen
    assert.equal(scan('{"a":1,"a":2}'), 2);
    assert.equal(Object.keys(JSON.parse('{"a":1,"a":2}') as object).length, 1);
  });

  it('stops as soon as nesting passes the limit, brackets in strings not counted', () => {
    assert.equal(scan('[[[]]]', 3), 0);
    assert.equal(scan('[[[[]]]]', 3), TOO_DEEP);
    assert.equal(scan('{"a":{"b":"[[[[[["}}', 2), 2);
    assert.equal(scan('['.repeat(1_000_000), 9), TOO_DEEP);
  });
});

describe(splitJsonArray.name, () => {
  const split = (s: string) => {
    const b = bytes(s);
    const r = splitJsonArray(b);
    return r.ok ? r.elements.map(([from, to]) => b.subarray(from, to).toString()) : r;
  };

  it('returns the bytes of each element, whitespace trimmed', () => {
    assert.deepEqual(split('[]'), []);
    assert.deepEqual(split(' [ ] '), []);
    assert.deepEqual(split('[{"a":[1,2]}, "x,]", 3 ,\n{"b":{"c":"}"}}]'), ['{"a":[1,2]}', '"x,]"', '3', '{"b":{"c":"}"}}']);
  });

  it('tells a body that is not an array from a broken one', () => {
    assert.deepEqual(split('{"eventId":"x"}'), { ok: false, notAnArray: true, detail: "expected a JSON array, found '{' at byte 0" });
    assert.deepEqual(split(''), { ok: false, notAnArray: true, detail: 'empty body' });
    for (const broken of ['[1,]', '[,1]', '[1,,2]', '[{"a":1]', '[{"a":"1}]', '[1] x', '[[1]', '[1']) {
      const r = split(broken);
      assert.ok(!Array.isArray(r) && !r.ok && !r.notAnArray, `${broken}: ${JSON.stringify(r)}`);
    }
  });

  it('splits an array nested any depth without recursing', () => {
    const r = split(`[${'['.repeat(200_000)}${']'.repeat(200_000)},{}]`);
    assert.ok(Array.isArray(r));
    assert.equal(r.length, 2);
  });
});

describe(locateJsonProblem.name, () => {
  it('names the first duplicate key by its JSON pointer, decoding escapes', () => {
    assert.deepEqual(locateJsonProblem('{"a":1,"b":[{"c":1},{"c":1,"c":2}]}', Infinity), { kind: 'duplicate_key', pointer: '/b/1/c' });
    assert.deepEqual(locateJsonProblem('{"a/b~":{"x":1,"\\u0078":2}}', Infinity), { kind: 'duplicate_key', pointer: '/a~1b~0/x' });
    assert.equal(locateJsonProblem('{"a":{"a":{"a":1}}}', Infinity), undefined);
  });

  it('names the top-level member that nests too deep', () => {
    assert.deepEqual(locateJsonProblem('{"ok":[1],"context":{"a":{"b":[1]}}}', 3), { kind: 'too_deep', pointer: '/context' });
    assert.deepEqual(locateJsonProblem('[[[1]]]', 2), { kind: 'too_deep', pointer: '/0' });
    assert.deepEqual(locateJsonProblem('{"a":1}', 0), { kind: 'too_deep', pointer: '' });
  });
});
