/**
 * Experiments end to end, the closed loop through the real services: the ingester, the
 * sequence-builder, two serving scorer replicas (SCORER_FEEDBACK_JOIN=false) and a scorer running
 * the feedback join and the shadow (the k8s scorer-feedback Deployment), as their own processes on
 * real Kafka and Redis.
 *
 * Simulated shoppers (@seqrec/generator's Shoppers) view an item (POST /v1/events, through Kafka
 * and the builder into their live window), ask a scorer replica for 10 recommendations, and click
 * or buy by the generator's own transition model; their click and purchase events carry the
 * answer's `requestId` back through the ingester. The feedback scorer's join counts impressions
 * and feedback in Redis, and the report (GET /v1/experiments/{id}/report) decides.
 *
 * - A/B: control is the popularity model the scorers serve; the treatment is an item
 *   co-occurrence model fitted on the generator's walks. The effect is stated from the shoppers'
 *   own click probabilities of the lists actually shown (the expected CTR of each arm), and the
 *   report must name the treatment the winner.
 * - A/A: both variants serve the popularity model (another experiment id, so users reshuffle); the
 *   report must name no winner.
 *
 * Halfway through the A/B run the feedback scorer is killed with SIGKILL and a new one started: every
 * impression and every click must still count exactly once.
 *
 * Every seed is fixed: the shoppers' responses, the assignment (a hash of the experiment and user
 * ids) and the models are deterministic, so the outcome does not depend on luck; the A/A false-
 * positive rate itself is measured over hundreds of runs by `npm run bench:experiments`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { bucketOf } from '@seqrec/experiments';
import { Catalogue, Shoppers, resolveOptions } from '@seqrec/generator';
import { waitFor } from '@seqrec/kafka/testing';
import { Rng } from '@seqrec/random';
import { createTestGraphArtifact } from '@seqrec/scoring/testing';
import { metricSum, type RunningService } from '@seqrec/testing';
import { decodeWindow } from '@seqrec/window';
import type { Redis } from 'ioredis';
import { E2eStack } from './stack';

const ADMIN = 'e2e-experiments-admin';
const USERS = 400;
const ROUNDS = 6;
const K = 10;
const CLI = join(__dirname, '..', '..', 'libs', 'serving', 'experiments', 'dist', 'cli', 'experiments.js');

interface Shown {
  user: string;
  current: number;
  requestId: string;
  variant: string;
  items: number[];
}

describe('experiments (closed loop through the real services): A/B names the better model, A/A names none', () => {
  const stack = new E2eStack('experiments', {
    MODEL_NAME: 'pop',
    SCORER_MODEL_POLL_SECONDS: '0',
    SCORER_EXPERIMENT_POLL_MS: '500',
    // every shopper must get an answer: no shedding on a busy test machine (tested in the scorer's own specs)
    SCORER_MAX_EVENT_LOOP_DELAY_MS: '0',
    AUTH_ADMIN_KEYS: ADMIN,
    // the shoppers' own views must not be excluded or deduplicated away between rounds
    SCORER_RULES_EXCLUDE_INTERACTED: '',
  });
  const { store, keys } = stack;
  const catalogue = new Catalogue(resolveOptions({ seed: 7, items: 1_000, categories: 20 }));
  const shoppers = new Shoppers(catalogue);
  const index = new Map(catalogue.itemIds.map((id, i) => [id, i]));
  const users = Array.from({ length: USERS }, (_, u) => `shopper-${u}`);
  let redis: Redis;
  let ingester: RunningService;
  let scorers: RunningService[] = [];
  let feedbackScorer: RunningService;
  let round = 0;

  before(async () => {
    // the models: popularity (served) and co-occurrence, fitted on the generator's own walks
    const rng = new Rng(11);
    const walks = Array.from({ length: 4_000 }, () => {
      const w = [catalogue.sampleItem(rng)];
      for (let j = 0; j < 12; j++) w.push(catalogue.sampleTransition(w[w.length - 1]!, rng));
      return w;
    });
    await createTestGraphArtifact(store, { model: 'pop', kind: 'pop', items: [...catalogue.itemIds], train: walks, version: 'v1' });
    await createTestGraphArtifact(store, { model: 'cooc', kind: 'cooc', items: [...catalogue.itemIds], train: walks, version: 'v1', promote: false });
    await stack.createTopics(2);
    redis = await stack.redis();
    let rest: RunningService[];
    [ingester, , ...rest] = await stack.startAll([
      'ingester',
      'sequence-builder',
      ['scorer', { SCORER_FEEDBACK_JOIN: 'false' }],
      ['scorer', { SCORER_FEEDBACK_JOIN: 'false' }],
      ['scorer', { SCORER_SHADOW_MAX_LOAD: '1' }],
    ]);
    scorers = rest.slice(0, 2);
    feedbackScorer = rest[2]!;
  });

  after(() => stack.close());

  const admin = (url: string, method: string, body?: unknown) =>
    fetch(url, { method, headers: { 'x-api-key': ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const postEvents = async (events: object[]) => {
    for (let i = 0; i < events.length; i += 500) {
      const res = await fetch(`${ingester.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events.slice(i, i + 500)) });
      assert.equal(res.status, 200, await res.text());
    }
  };
  /** The report (admin keys are rate-limited: a 429 is waited out as its Retry-After says). */
  const readReport = async <R>(scorer: RunningService, id: string): Promise<R> => {
    for (;;) {
      const res = await admin(`${scorer.url}/v1/experiments/${id}/report`, 'GET');
      if (res.status === 429) {
        await new Promise((r) => setTimeout(r, 1_000 * Number(res.headers.get('retry-after') ?? 1)));
        continue;
      }
      assert.equal(res.status, 200, await res.clone().text());
      await new Promise((r) => setTimeout(r, 250));
      return (await res.json()) as R;
    }
  };
  /** Every shopper's live window ends with this round's view (the builder applied it). */
  const windowsAt = async (ts: number) => {
    const bufs = await redis.mgetBuffer(...users.map((u) => keys.userSequence(u)));
    return bufs.every((b) => b !== null && decodeWindow(b).events.at(-1)!.ts >= Math.floor(ts / 1000) * 1000);
  };

  /**
   * One round: each shopper views an item (drawn by popularity), is shown 10 recommendations by a
   * scorer replica (alternating), and responds; clicks and purchases go back with the requestId.
   */
  async function runRound(experiment: string, rng: Rng): Promise<{ shown: Shown[]; clicks: number }> {
    const ts = Date.now() + 1_000 * round++;
    const current = users.map(() => catalogue.sampleItem(rng));
    await postEvents(users.map((u, i) => ({ eventId: `${experiment}-v-${round}-${u}`, userId: u, type: 'view', itemId: catalogue.itemIds[current[i]!], ts })));
    await waitFor('every window to hold the round\'s view', () => windowsAt(ts), 60_000);
    const shown: Shown[] = [];
    for (let i = 0; i < users.length; i += 20) {
      const part = await Promise.all(
        users.slice(i, i + 20).map(async (u, j) => {
          const scorer = scorers[(i + j) % scorers.length]!;
          const res = await fetch(`${scorer.url}/v1/users/${u}/recommendations?k=${K}`);
          assert.equal(res.status, 200, await res.clone().text());
          const body = (await res.json()) as { requestId: string; experiment?: { id: string; variant: string }; items: Array<{ itemId: string }> };
          assert.equal(body.experiment?.id, experiment, `${u}: ${JSON.stringify(body.experiment)}`);
          return { user: u, current: current[i + j]!, requestId: body.requestId, variant: body.experiment!.variant, items: body.items.map((it) => index.get(it.itemId)!) };
        }),
      );
      shown.push(...part);
    }
    const feedback: object[] = [];
    for (const s of shown) {
      const r = shoppers.respond(s.current, s.items, rng);
      for (const p of r.clicked) feedback.push({ eventId: `${s.requestId}-c${p}`, userId: s.user, type: 'click', itemId: catalogue.itemIds[s.items[p]!], ts: ts + 500, requestId: s.requestId });
      for (const p of r.bought) feedback.push({ eventId: `${s.requestId}-b${p}`, userId: s.user, type: 'purchase', itemId: catalogue.itemIds[s.items[p]!], ts: ts + 600, requestId: s.requestId, revenue: 10 });
    }
    if (feedback.length) await postEvents(feedback);
    return { shown, clicks: feedback.filter((f) => (f as { type: string }).type === 'click').length };
  }

  /** `npm run experiments -- ...` against the first scorer. */
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, SEQREC_SCORER_URL: scorers[0]!.url, SEQREC_ADMIN_KEY: ADMIN } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  /** SIGKILL of the feedback scorer mid-experiment (as a node loss would), and a new one in its place. */
  async function crashFeedbackScorer(id: string, shown: number, posted: number): Promise<void> {
    const at = await readReport<{ counts: Record<string, { impressions: number; clicks: number }> }>(scorers[0]!, id);
    await stack.kill(feedbackScorer);
    const sum = (f: (c: { impressions: number; clicks: number }) => number) => Object.values(at.counts).reduce((a, c) => a + f(c), 0);
    console.log(`kill -9 of the feedback scorer with ${sum((c) => c.impressions)} of ${shown} impressions and ${sum((c) => c.clicks)} of ${posted} clicks counted`);
    feedbackScorer = await stack.start('scorer', { SCORER_SHADOW_MAX_LOAD: '1' });
  }

  async function runExperiment(id: string, config: object, seed: number, byCli = false, midway?: (id: string, shown: number, posted: number) => Promise<void>) {
    if (byCli) {
      const file = join(stack.dir, `${id}.json`);
      writeFileSync(file, JSON.stringify(config));
      const started = await cli('start', id, file);
      assert.equal(started.code, 0, started.stderr);
      assert.match(started.stdout, new RegExp(`${id} started .* in force on this scorer`));
    } else {
      const res = await admin(`${scorers[0]!.url}/v1/experiments/${id}`, 'PUT', config);
      assert.equal(res.status, 200, await res.clone().text());
    }
    // the other replica and the feedback scorer follow through the store (SCORER_EXPERIMENT_POLL_MS)
    await waitFor(`every scorer to have ${id} in force`, async () => {
      const states = await Promise.all([...scorers, feedbackScorer].map(async (s) => ((await (await admin(`${s.url}/v1/experiments`, 'GET')).json()) as { inForce: string | null }).inForce));
      return states.every((x) => x === id);
    }, 30_000);
    const rng = new Rng(seed);
    const shown: Shown[] = [];
    let posted = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const got = await runRound(id, rng);
      shown.push(...got.shown);
      posted += got.clicks;
      // while the join is still reading this round's impressions and clicks
      if (r === ROUNDS / 2 - 1) await midway?.(id, shown.length, posted);
    }
    // the expected CTR of each arm, from the shoppers' own click probabilities of what was shown
    const expected = new Map<string, { n: number; p: number }>();
    for (const s of shown) {
      const e = expected.get(s.variant) ?? { n: 0, p: 0 };
      e.n++;
      e.p += shoppers.listClickProbability(s.current, s.items);
      expected.set(s.variant, e);
    }
    // the join is asynchronous: wait until it counted every impression
    type Report = { counts: Record<string, { impressions: number; clicks: number; clickedImpressions: number }>; report: { winner: string | null; comparisons: Array<{ variant: string; metric: string; difference: number; p: number; significant: boolean }> } };
    let report: Report | null = null;
    await waitFor(`${shown.length} impressions counted`, async () => {
      report = await readReport<Report>(scorers[1]!, id);
      return Object.values(report.counts).reduce((s, c) => s + c.impressions, 0) === shown.length;
    }, 60_000);
    // and every click posted, once (none lost, none counted twice)
    let joined = 0;
    await waitFor(`${posted} clicks joined (${joined} so far)`, async () => {
      report = await readReport<Report>(scorers[1]!, id);
      joined = Object.values(report.counts).reduce((s, c) => s + c.clicks, 0);
      return joined === posted;
    }, 60_000).catch((err: Error) => assert.fail(`${err.message}; joined ${joined}`));
    await new Promise((r) => setTimeout(r, 1_000));
    const final = await readReport<Report>(scorers[0]!, id);
    assert.equal(Object.values(final.counts).reduce((s, c) => s + c.clicks, 0), posted, 'no click counted twice');
    const exp = [...expected].map(([v, e]) => `${v}: expected CTR ${((100 * e.p) / e.n).toFixed(2)}% over ${e.n} impressions`).join('; ');
    return { shown, expected, report: final, exp, posted };
  }

  it('A/B: the co-occurrence model beats popularity by the effect the shoppers state, and the report names it; a kill -9 of the join loses and doubles nothing', async () => {
    const { shown, expected, report, exp } = await runExperiment(
      'ab',
      { variants: [{ name: 'popularity', share: 1 }, { name: 'cooc', share: 1, model: { name: 'cooc', version: 'v1' } }], k: K },
      1,
      false,
      crashFeedbackScorer,
    );
    const pop = expected.get('popularity')!;
    const co = expected.get('cooc')!;
    console.log(`A/B ${exp}`);
    assert.ok(pop.n > shown.length / 3 && co.n > shown.length / 3, 'both arms are served');
    assert.ok(co.p / co.n >= 1.2 * (pop.p / pop.n), `the stated effect: ${exp}`);
    assert.equal(Object.values(report.counts).reduce((s, c) => s + c.impressions, 0), shown.length);
    const final = report;
    const ctr = final.report.comparisons.find((c) => c.variant === 'cooc' && c.metric === 'ctr')!;
    console.log(`A/B report: ${JSON.stringify(final.counts)}; ctr difference ${ctr.difference.toFixed(4)}, p ${ctr.p.toExponential(2)}, winner ${final.report.winner}`);
    assert.equal(final.report.winner, 'cooc');
    const printed = await cli('report', 'ab');
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^experiment ab: winner cooc \(decided on ctr\)/);
    console.log(printed.stdout);
  });

  it('A/A with a shadow: both arms serve the same model, the report names no winner; the join and the shadow run only off the serving replicas', async () => {
    const counted = (scorer: RunningService, name: string, labels = '') => metricSum(scorer.metricsUrl, name, labels);
    const before = await counted(feedbackScorer, 'seqrec_experiment_impressions_total');
    const { shown, report, exp } = await runExperiment(
      'aa',
      { variants: [{ name: 'a1', share: 1 }, { name: 'a2', share: 1 }], k: K, shadow: { model: { name: 'cooc', version: 'v1' }, sample: 0.5 } },
      2,
      true,
    );
    console.log(`A/A ${exp}; winner ${report.report.winner}`);
    assert.equal(report.report.winner, null);
    // the feedback scorer joined every impression; the serving replicas none, and loaded no shadow
    assert.equal((await counted(feedbackScorer, 'seqrec_experiment_impressions_total')) - before, shown.length);
    for (const s of scorers) {
      assert.equal(await counted(s, 'seqrec_experiment_impressions_total'), 0, 'a serving replica runs no join');
      assert.equal(await counted(s, 'seqrec_shadow_requests_total'), 0, 'nor the shadow');
      assert.ok((await counted(s, 'seqrec_experiment_impressions_published_total', 'outcome="published"')) > 0, 'it publishes impressions');
    }
    // about half the impressions are in the shadow's sample; each is scored once, from the feedback scorer
    const sampled = shown.filter((x) => bucketOf('shadow', x.requestId) < 0.5).length;
    await waitFor(`${sampled} shadow scorings`, async () => (await counted(feedbackScorer, 'seqrec_shadow_requests_total', 'outcome="scored"')) === sampled, 60_000);
    assert.equal(await counted(feedbackScorer, 'seqrec_shadow_requests_total', 'outcome="failed"'), 0);
    assert.equal(await counted(feedbackScorer, 'seqrec_shadow_requests_total', 'outcome="skipped"'), 0);
    assert.equal(await counted(feedbackScorer, 'seqrec_shadow_overlap_ratio_count'), sampled);
    const list = await cli('list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /active: aa/);
    assert.match(list.stdout, /ab .* – \d{4}-/, 'ab stopped when aa started');
  });

  it("a deleted user's impressions leave the experiment store; the counts stay", async () => {
    const user = users[0]!;
    const holding = async () => {
      const found: string[] = [];
      for (const node of [redis]) {
        let cursor = '0';
        do {
          const [next, batch] = await node.scan(cursor, 'MATCH', `${stack.ns}:exp:*`, 'COUNT', 1_000);
          cursor = next;
          for (const key of batch) {
            if (key.endsWith(`:sub:u:${user}`)) found.push(key);
            else if (key.includes(':imp:') && (await node.hget(key, 's')) === `u:${user}`) found.push(key);
          }
        } while (cursor !== '0');
      }
      return found;
    };
    assert.ok((await holding()).length >= 2 * ROUNDS, 'the user has impressions in both experiments');
    const before = await readReport<{ counts: Record<string, { impressions: number }> }>(scorers[0]!, 'ab');
    const res = await admin(`${ingester.url}/v1/users/${user}`, 'DELETE');
    assert.equal(res.status, 200, await res.clone().text());
    await waitFor('the user\'s impressions erased', async () => (await holding()).length === 0, 30_000);
    const after = await readReport<{ counts: Record<string, { impressions: number }> }>(scorers[0]!, 'ab');
    assert.deepEqual(after.counts, before.counts);
  });
});
