import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImpressionV1 } from '@seqrec/contracts';
import { bucketOf, type ExperimentConfig } from '@seqrec/experiments';
import { createRegistry } from '@seqrec/metrics';
import type { ScoringOptions, ScoringService } from '../scoring.service';
import type { ServingModel } from '../serving-model';
import { createExperimentMetrics } from './experiment.metrics';
import type { ExperimentsService } from './experiments.service';
import { MAX_SHADOW_QUEUE, ShadowScoring } from './shadow.service';

const CONFIG: ExperimentConfig = { id: 'x', variants: [{ name: 'a', share: 1 }], holdout: 0, shadow: { model: { name: 'cand' }, sample: 0.5 } };

const impression = (i: number, experiment = 'x'): ImpressionV1 => ({
  requestId: `r${i}`,
  experiment,
  variant: 'a',
  userId: `u${i}`,
  route: 'recommendations',
  items: ['p1', 'p2', 'p3'],
  model: { name: 'served', version: 'v1' },
  ts: Date.now(),
});

/** A ShadowScoring over fakes: `inForce` says which experiment this process has in force (null: none yet). */
function setup(opts: { inForce: string | null; answer?: (imp: ImpressionV1) => Promise<string[]> }) {
  const state = { inForce: opts.inForce, released: 0, scored: [] as string[] };
  const model = { name: 'cand', version: 'v2', release: () => void state.released++ } as unknown as ServingModel;
  const experiments = {
    get active() {
      return state.inForce ? { config: { ...CONFIG, id: state.inForce } } : null;
    },
    shadowFor: (imp: ImpressionV1) => (state.inForce === imp.experiment && bucketOf('shadow', imp.requestId) < 0.5 ? model : null),
  } as unknown as ExperimentsService;
  const scoring = {
    shadowAnswer: async (_m: ServingModel, imp: ImpressionV1) => {
      state.scored.push(imp.requestId);
      return opts.answer ? opts.answer(imp) : ['p1', 'p9', 'p3'];
    },
  } as unknown as ScoringService;
  const registry = createRegistry('test');
  const metrics = createExperimentMetrics(registry);
  const shadow = new ShadowScoring(experiments, scoring, { shadowMaxLoad: 1 } as ScoringOptions, metrics);
  const count = async (outcome: string) => (await metrics.shadow.get()).values.filter((v) => v.labels.outcome === outcome).reduce((a, v) => a + v.value, 0);
  return { state, shadow, metrics, count };
}

const until = async (f: () => boolean | Promise<boolean>, what: string, ms = 5_000) => {
  for (const t0 = Date.now(); !(await f()); ) {
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('ShadowScoring', () => {
  it("scores exactly the impressions in the shadow's sample, once each, and releases the model every time", async () => {
    const { state, shadow, metrics, count } = setup({ inForce: 'x' });
    const imps = Array.from({ length: 200 }, (_, i) => impression(i));
    const sampled = imps.filter((imp) => bucketOf('shadow', imp.requestId) < 0.5).map((imp) => imp.requestId);
    assert.ok(sampled.length > 60 && sampled.length < 140, `${sampled.length} of 200 in a 0.5 sample`);
    shadow.offer(imps, CONFIG);
    await until(async () => (await count('scored')) === sampled.length, 'every sampled impression scored');
    assert.deepEqual(state.scored, sampled, 'in order, none twice');
    assert.equal(state.released, sampled.length);
    // the served top 3 (p1 p2 p3) against the shadow's (p1 p9 p3): 2 of 3
    const overlap = (await metrics.shadowOverlap.get()).values.find((v) => v.metricName === 'seqrec_shadow_overlap_ratio_sum')!;
    assert.ok(Math.abs(overlap.value - (sampled.length * 2) / 3) < 1e-6, String(overlap.value));
    shadow.onApplicationShutdown();
  });

  it('holds impressions while their experiment is loading in this process, then scores them', async () => {
    const { state, shadow, count } = setup({ inForce: null });
    const imps = Array.from({ length: 40 }, (_, i) => impression(i));
    const sampled = imps.filter((imp) => bucketOf('shadow', imp.requestId) < 0.5).length;
    shadow.offer(imps, CONFIG);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await count('scored'), 0);
    assert.equal(await count('skipped'), 0, 'not skipped while the shadow loads');
    assert.equal(shadow.pending, sampled);
    state.inForce = 'x';
    await until(async () => (await count('scored')) === sampled, 'scored once the shadow is in force');
    shadow.onApplicationShutdown();
  });

  it('skips what a full queue cannot hold, and counts a failed scoring without stopping', async () => {
    let fail = true;
    const { state, shadow, count } = setup({
      inForce: null,
      answer: async () => {
        if (fail) {
          fail = false;
          throw new Error('boom');
        }
        return ['p1'];
      },
    });
    const imps = Array.from({ length: 3 * MAX_SHADOW_QUEUE }, (_, i) => impression(i));
    const sampled = imps.filter((imp) => bucketOf('shadow', imp.requestId) < 0.5).length;
    shadow.offer(imps, CONFIG);
    assert.equal(shadow.pending, MAX_SHADOW_QUEUE);
    assert.equal(await count('skipped'), sampled - MAX_SHADOW_QUEUE);
    state.inForce = 'x';
    await until(async () => (await count('scored')) + (await count('failed')) === MAX_SHADOW_QUEUE, 'the queue drained', 20_000);
    assert.equal(await count('failed'), 1);
    assert.equal(state.released, MAX_SHADOW_QUEUE);
    shadow.onApplicationShutdown();
  });

  it('offers nothing for an experiment without a shadow', async () => {
    const { shadow } = setup({ inForce: 'x' });
    shadow.offer([impression(1), impression(2)], { ...CONFIG, shadow: undefined });
    assert.equal(shadow.pending, 0);
  });
});
