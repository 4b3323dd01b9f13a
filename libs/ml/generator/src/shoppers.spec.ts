import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@seqrec/random';
import { Catalogue } from './catalogue';
import { resolveOptions } from './options';
import { Shoppers } from './shoppers';

const catalogue = new Catalogue(resolveOptions({ seed: 7, items: 500, categories: 10 }));

describe(Shoppers.name, () => {
  const shoppers = new Shoppers(catalogue);

  it('clicks the items the shopper really goes to next more often, as its own probabilities say', () => {
    const rng = new Rng('shoppers', 0);
    const k = 10;
    let oracleClicks = 0;
    let randomClicks = 0;
    let oracleExpected = 0;
    let randomExpected = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const current = catalogue.sampleItem(rng);
      const oracle = catalogue.nextItems(current).slice(0, k);
      const random = Array.from({ length: k }, () => rng.int(catalogue.size));
      oracleExpected += shoppers.listClickProbability(current, oracle);
      randomExpected += shoppers.listClickProbability(current, random);
      if (shoppers.respond(current, oracle, rng).clicked.length > 0) oracleClicks++;
      if (shoppers.respond(current, random, rng).clicked.length > 0) randomClicks++;
    }
    const within = (count: number, expected: number) => Math.abs(count - expected) <= 4 * Math.sqrt(expected);
    assert.ok(within(oracleClicks, oracleExpected), `oracle ${oracleClicks} vs ${oracleExpected.toFixed(0)}`);
    assert.ok(within(randomClicks, randomExpected), `random ${randomClicks} vs ${randomExpected.toFixed(0)}`);
    assert.ok(oracleClicks > 3 * randomClicks, `oracle ${oracleClicks}, random ${randomClicks}`);
  });

  it('looks at the top of the list more, and buys only what it clicked', () => {
    const current = 3;
    const item = catalogue.nextItems(current)[0]!;
    assert.ok(shoppers.clickProbability(current, item, 0) > shoppers.clickProbability(current, item, 5));
    assert.equal(Shoppers.examination(0), 1);
    const rng = new Rng('buy', 0);
    for (let i = 0; i < 2000; i++) {
      const r = shoppers.respond(current, catalogue.nextItems(current), rng);
      for (const b of r.bought) assert.ok(r.clicked.includes(b));
    }
    assert.throws(() => new Shoppers(catalogue, { purchaseRate: 2 }), /purchaseRate/);
  });

  it('has the true transition probabilities of the catalogue', () => {
    let sum = 0;
    for (const t of catalogue.nextItems(11)) sum += catalogue.transitionProbability(11, t);
    assert.ok(Math.abs(sum - 1) < 1e-12);
    const other = Array.from({ length: catalogue.size }, (_, i) => i).find((i) => i !== 11 && !catalogue.nextItems(11).includes(i))!;
    assert.equal(catalogue.transitionProbability(11, other), 0);
  });
});
