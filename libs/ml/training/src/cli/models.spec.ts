import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelSummary, ModelVersionSummary } from '@seqrec/model-store';
import { PROMOTION_METRIC } from '../pipeline';
import { formatModels, runModelsCli } from './models';

/** Arguments and output; the commands against a running trainer: test/src/rollback.spec.ts. */
describe(runModelsCli.name, () => {
  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runModelsCli(argv, { env: {}, out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join(''), err: err.join('') };
  };

  it('exits 2 with the usage on bad arguments, before any request', async () => {
    for (const [argv, message] of [
      [[], /a command is required/],
      [['drop'], /unknown command "drop"/],
      [['rollback'], /rollback needs a version/],
      [['rollback', 'v1', 'v2'], /unexpected argument "v2"/],
      [['list', 'v1'], /list takes no argument/],
      [['list', '--colour'], /Unknown option '--colour'/],
    ] as const) {
      const r = await run([...argv]);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, message);
      assert.match(r.err, /usage: npm run models/);
    }
    assert.equal((await run(['--help'])).code, 0);
  });

  it('exits 1 naming the trainer when it cannot be reached', async () => {
    const r = await run(['list', '--url', 'http://127.0.0.1:9']);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot reach the trainer at http:\/\/127\.0\.0\.1:9/);
  });
});

describe(formatModels.name, () => {
  it('marks the promoted version, the pin and the versions trained before a deletion', () => {
    const v = (version: string, current: boolean, promotable: boolean, ndcg?: number): ModelVersionSummary => ({
      version,
      createdAt: '2026-12-07T10:00:00.000Z',
      dataAt: '2026-12-07T09:59:00.000Z',
      backend: 'tensorflow',
      data: 'kafka:events',
      parent: null,
      current,
      promotable,
      metrics: ndcg === undefined ? {} : ({ [PROMOTION_METRIC]: ndcg } as Record<string, number>),
      trainingCurve: null,
    });
    const models: ModelSummary[] = [
      { model: 'sasrec', current: 'v2', pinned: { version: 'v2', at: '2026-12-07T11:00:00.000Z' }, versions: [v('v1', false, false, 0.1), v('v2', true, true, 0.12345), v('v3', false, true)] },
    ];
    const text = formatModels(models);
    assert.match(text, /^sasrec: promoted v2, pinned since 2026-12-07T11:00:00.000Z \(training runs keep it\)$/m);
    assert.match(text, /^ {2}x {2}v1 {7}2026-12-07T09:59:00.000Z {2}0\.1000 {9}kafka:events$/m);
    assert.match(text, /^ {2}\* {2}v2 .* 0\.1235 /m);
    assert.match(text, /^ {5}v3 .* - {14}kafka:events$/m);
    assert.equal(formatModels([]), 'no model in the store\n');
  });
});
