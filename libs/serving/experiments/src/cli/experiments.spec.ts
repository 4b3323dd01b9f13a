import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runExperimentsCli } from './experiments';

/** The CLI against a fake scorer (HTTP faked: the real one is driven in test/src/experiments.spec.ts). */
describe('npm run experiments', () => {
  const run = async (argv: string[], answer?: { status: number; body: unknown }, files: Record<string, string> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const calls: Array<{ url: string; method: string; body?: string; key?: string }> = [];
    const code = await runExperimentsCli(argv, {
      env: { SEQREC_SCORER_URL: 'http://scorer:8080', SEQREC_ADMIN_KEY: 'k' },
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      readFile: (p) => {
        if (!(p in files)) throw new Error(`ENOENT ${p}`);
        return files[p]!;
      },
      fetch: (async (url: string, init: RequestInit) => {
        calls.push({ url, method: init.method ?? 'GET', ...(init.body ? { body: String(init.body) } : {}), key: (init.headers as Record<string, string>)['x-api-key'] });
        if (!answer) throw Object.assign(new TypeError('fetch failed'), { cause: new Error('connect ECONNREFUSED') });
        return new Response(JSON.stringify(answer.body), { status: answer.status });
      }) as typeof fetch,
    });
    return { code, out: out.join(''), err: err.join(''), calls };
  };

  it('exits 2 on bad usage, before calling anything', async () => {
    for (const argv of [[], ['nope'], ['report'], ['start', 'x'], ['stop', 'a', 'b'], ['--what']]) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.calls.length, 0);
    }
    const r = await run(['start', 'x', 'missing.json']);
    assert.equal(r.code, 2);
    assert.match(r.err, /not a readable JSON file/);
    assert.equal((await run(['start', 'x', 'bad.json'], undefined, { 'bad.json': '{' })).code, 2);
  });

  it('starts an experiment from a file with the admin key, and exits 1 when the scorer refuses or is away', async () => {
    const file = JSON.stringify({ variants: [{ name: 'a', share: 1 }] });
    const ok = await run(['start', 'ab', 'e.json'], { status: 200, body: { config: { id: 'ab', variants: [] }, startedAt: 0, inForce: true } }, { 'e.json': file });
    assert.equal(ok.code, 0, ok.err);
    assert.deepEqual(ok.calls, [{ url: 'http://scorer:8080/v1/experiments/ab', method: 'PUT', body: file, key: 'k' }]);
    assert.match(ok.out, /ab started .* in force on this scorer/);
    const refused = await run(['start', 'ab', 'e.json'], { status: 400, body: { message: 'variants/0.share: must be > 0' } }, { 'e.json': file });
    assert.equal(refused.code, 1);
    assert.match(refused.err, /answered 400: variants\/0.share/);
    const away = await run(['stop', 'ab']);
    assert.equal(away.code, 1);
    assert.match(away.err, /cannot reach the scorer at http:\/\/scorer:8080: connect ECONNREFUSED/);
  });

  it('prints the report as tables with the winner and the method', async () => {
    const iv = (m: number) => ({ mean: m, low: m - 0.01, high: m + 0.01 });
    const body = {
      experiment: 'ab',
      k: 10,
      report: {
        method: 'mSPRT ...',
        alpha: 0.05,
        comparisonAlpha: 0.05,
        primary: 'ctr',
        control: 'a',
        winner: 'b',
        variants: [
          { name: 'a', impressions: 100, ctr: iv(0.05), conversion: iv(0.01), revenuePerImpression: iv(0.5), meanClickPosition: 2.5 },
          { name: 'b', impressions: 120, ctr: iv(0.2), conversion: iv(0.02), revenuePerImpression: iv(1), meanClickPosition: null },
        ],
        comparisons: [{ variant: 'b', metric: 'ctr', difference: 0.15, relative: 3, low: 0.1, high: 0.2, p: 0.00001, significant: true }],
      },
    };
    const r = await run(['report', 'ab'], { status: 200, body });
    assert.equal(r.code, 0);
    assert.match(r.out, /^experiment ab: winner b \(decided on ctr\)/);
    assert.match(r.out, /a \(control\)\s+100\s+5\.00% \[4\.00%, 6\.00%\]/);
    assert.match(r.out, /b − a\s+ctr\s+15\.00%\s+\[10\.00%, 20\.00%\]\s+1\.0e-5\s+yes/);
    assert.match(r.out, /method: mSPRT/);
    const json = await run(['report', 'ab', '--json'], { status: 200, body });
    assert.deepEqual(JSON.parse(json.out), body);
    // bounds the API sends as null (unbounded: no variance yet, e.g. no click at all)
    const empty = structuredClone(body) as unknown as { report: { variants: Array<{ ctr: { low: number | null; high: number | null } }>; comparisons: Array<{ low: number | null; high: number | null }> } };
    empty.report.variants[0]!.ctr = { ...empty.report.variants[0]!.ctr, low: null, high: null };
    empty.report.comparisons[0]!.low = null;
    const early = await run(['report', 'ab'], { status: 200, body: empty });
    assert.equal(early.code, 0, early.err);
    assert.match(early.out, /5\.00% unbounded yet/);
  });
});
