import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { parseEvent } from '@seqrec/contracts';
import { ClickstreamGenerator } from './clickstream-generator';
import { HttpSink, StdoutSink } from './sinks';

function newRecords(n: number) {
  return new ClickstreamGenerator({ seed: 1, users: 100, items: 200, malformedRate: 0.2, duplicateRate: 0.1 }).takeRecords(n);
}

describe(StdoutSink.name, () => {
  it('writes one line per record, malformed payloads as they are', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const records = newRecords(200);
    await new StdoutSink(out).send(records);
    const lines = chunks.join('').split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 200);
    records.forEach((r, i) => {
      if (r.kind === 'malformed') assert.equal(lines[i], r.payload);
      else assert.deepEqual(JSON.parse(lines[i]!), r.event);
    });
  });
});

describe(HttpSink.name, () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  function stubFetch(status: number): Array<{ url: string; init: RequestInit }> {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    globalThis.fetch = (async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init: init! });
      return new Response(status === 200 ? '{}' : 'bad batch', { status });
    }) as typeof fetch;
    return calls;
  }

  it('POSTs a JSON array per batch', async () => {
    const calls = stubFetch(200);
    const records = new ClickstreamGenerator({ seed: 1, users: 100, items: 200 }).takeRecords(50);
    const sut = new HttpSink('http://127.0.0.1:1/v1/events', 'json');
    await sut.send(records);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.init.method, 'POST');
    assert.equal((calls[0]!.init.headers as Record<string, string>)['content-type'], 'application/json');
    const body = JSON.parse(calls[0]!.init.body as string) as unknown[];
    assert.deepEqual(body, records.map((r) => (r.kind === 'malformed' ? undefined : r.event)));
    assert.deepEqual(sut.summary().statuses, { 200: 1 });
  });

  it('POSTs NDJSON with malformed payloads as they are, and counts non-2xx answers', async () => {
    const calls = stubFetch(400);
    const records = newRecords(100);
    const sut = new HttpSink('http://127.0.0.1:1/v1/events', 'ndjson');
    const stderrWrite = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      await sut.send(records);
      await sut.send(records);
    } finally {
      process.stderr.write = stderrWrite;
    }
    const lines = (calls[0]!.init.body as string).trimEnd().split('\n');
    assert.equal(lines.length, 100);
    records.forEach((r, i) => {
      if (r.kind === 'malformed') assert.equal(parseEvent(lines[i]!).ok, false);
    });
    assert.deepEqual(sut.summary().statuses, { 400: 2 });
  });
});
