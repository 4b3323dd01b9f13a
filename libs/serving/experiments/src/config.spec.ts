import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOLDOUT } from './assignment';
import { modelKey, parseExperiment, variantModel } from './config';

describe('parseExperiment', () => {
  it('accepts a full experiment and names the fields of a bad one', () => {
    const body = {
      id: 'sasrec-vs-gru',
      variants: [
        { name: 'control', share: 1 },
        { name: 'gru', share: 1, model: { name: 'gru4rec' } },
        { name: 'v7', share: 2, model: { name: 'sasrec', version: 'v7' } },
      ],
      holdout: 0.05,
      control: 'control',
      k: 10,
      attributionMinutes: 30,
      shadow: { model: { name: 'sasrec', version: 'v8' }, sample: 0.1 },
    };
    const ok = parseExperiment(body);
    assert.equal(ok.ok, true);
    if (!ok.ok) return;
    assert.equal(variantModel(ok.config, 'gru')?.name, 'gru4rec');
    assert.equal(variantModel(ok.config, HOLDOUT), undefined, 'the holdout is served the default model');
    assert.equal(variantModel(ok.config, 'control'), undefined);
    assert.equal(modelKey({ name: 'sasrec', version: 'v7' }), 'sasrec@v7');
    assert.equal(modelKey({ name: 'gru4rec' }), 'gru4rec');

    const bad = parseExperiment({
      id: 'has space',
      variants: [{ name: 'a', share: 0 }, { name: 'a', share: 1, model: { name: '../x', extra: 1 } }],
      holdout: 1,
      k: 0,
      what: 1,
      shadow: { model: { name: 'm' }, sample: 2 },
    });
    assert.equal(bad.ok, false);
    if (bad.ok) return;
    const fields = bad.problems.map((p) => p.split(':')[0]);
    for (const f of ['what', 'id', 'variants/1.model.name', 'variants/1.model.extra', 'k', 'shadow.sample']) assert.ok(fields.includes(f), `${f} in ${bad.problems.join('; ')}`);
    const dup = parseExperiment({ id: 'x', variants: [{ name: 'a', share: 0 }, { name: 'a', share: 1 }], holdout: 1 });
    assert.equal(dup.ok, false);
    if (!dup.ok) for (const f of ['variants.a.share', 'variants', 'holdout']) assert.ok(dup.problems.some((p) => p.startsWith(f)), `${f} in ${dup.problems.join('; ')}`);
    for (const body of [null, [], 'x', { id: 'x' }, { id: 'x', variants: [] }, { id: 'x', variants: [1] }]) assert.equal(parseExperiment(body).ok, false, JSON.stringify(body));
  });
});
