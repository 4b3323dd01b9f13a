import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVENT_TYPE_CODE } from '@seqrec/contracts';
import { CoocRecommender, ItemKnnRecommender } from '@seqrec/datasets';
import { createEncoder, initBackend, inlineEncoderFor, trainModel, type EncoderConfigInput, type LayersSequenceEncoder } from '@seqrec/model';
import { markovSplit } from '@seqrec/model/testing';
import { Rng } from '@seqrec/random';
import { explainByOcclusion, reasonText, type EventAttribution, type WindowScorer } from './explain';
import { GraphScorer } from './graph-scorer';

before(async () => {
  await initBackend('cpu');
});

const N = 40;
const split = markovSplit({ numItems: N, users: 200, minLen: 8, maxLen: 16, seed: 5 });
const cases = split.test.slice(0, 200);
const K = 3;

/** A scorer over an encoder, as the scorer serves it: the inline (WebAssembly) encoder and the item table. */
function encoderScorer(enc: LayersSequenceEncoder): WindowScorer {
  const inline = inlineEncoderFor(enc);
  assert.ok(inline, 'the kind has an inline encoder');
  const table = enc.itemTable();
  const rows = table.dataSync() as Float32Array;
  const d = table.shape[1];
  return (history, types, candidates) => {
    const v = inline.encode(history, types);
    return Float32Array.from(candidates, (c) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += v[j]! * rows[c * d + j]!;
      return s;
    });
  };
}

const ALL = Int32Array.from({ length: N }, (_, i) => i + 1);

/**
 * The faithfulness criterion of issue 20: over (user, item) pairs — each test user's top-K items —
 * the share where leaving out the event an attribution ranks first lowers the item's score more than
 * leaving out a random other event of the window. `rank` picks the attribution's top event.
 */
async function faithfulness(score: WindowScorer, rank: (a: EventAttribution[]) => EventAttribution): Promise<{ pairs: number; rate: number }> {
  const rng = new Rng('faithfulness', 0);
  let pairs = 0;
  let holds = 0;
  for (const c of cases) {
    const history = c.history.slice(-16);
    const types = new Uint8Array(history.length).fill(EVENT_TYPE_CODE.view);
    if (history.length < 2) continue;
    const all = await score(history, types, ALL);
    const top = Array.from(ALL).sort((a, b) => all[b - 1]! - all[a - 1]!).slice(0, K);
    const explained = await explainByOcclusion(history, types, Int32Array.from(top), score);
    for (const x of explained) {
      const chosen = rank(x.events);
      let other = rng.int(history.length - 1);
      if (other >= chosen.position) other++;
      const without = async (p: number) => (await score(Int32Array.from([...history.subarray(0, p), ...history.subarray(p + 1)]), types.subarray(1), Int32Array.of(x.item)))[0]!;
      pairs++;
      if (x.score - (await without(chosen.position)) > x.score - (await without(other))) holds++;
    }
  }
  return { pairs, rate: holds / pairs };
}

const strongest = (a: EventAttribution[]) => a[0]!;
const weakest = (a: EventAttribution[]) => a[a.length - 1]!;

describe(explainByOcclusion.name, () => {
  const encoders: LayersSequenceEncoder[] = [];
  after(() => encoders.forEach((e) => e.dispose()));

  const models: Array<[string, () => Promise<WindowScorer>]> = [
    ...(['sasrec', 'gru4rec', 'lstm'] as const).map(
      (kind) =>
        [
          kind,
          async () => {
            const enc = createEncoder({ kind, numItems: N, dim: 16, maxLen: 16, blocks: 1, heads: 2, dropout: 0.1, seed: 1 } as EncoderConfigInput);
            encoders.push(enc);
            await trainModel(enc, split, { epochs: kind === 'sasrec' ? 6 : 8, batchSize: 32, lr: kind === 'sasrec' ? 0.01 : 0.02 });
            return encoderScorer(enc);
          },
        ] as [string, () => Promise<WindowScorer>],
    ),
    ...([['cooc', () => new CoocRecommender({ neighbours: 12 }).fit(split.train, N)], ['itemknn', () => new ItemKnnRecommender({ neighbours: 12 }).fit(split.train, N)]] as const).map(
      ([kind, make]) =>
        [
          kind,
          async () => {
            const g = new GraphScorer(make().asGraph());
            return (history: Int32Array, _types: Uint8Array, candidates: Int32Array) => g.score(history, candidates);
          },
        ] as [string, () => Promise<WindowScorer>],
    ),
  ];

  for (const [kind, make] of models) {
    it(`${kind}, trained: leaving out the top-attributed event lowers the score more than a random one in >= 80% of >= 500 pairs`, async (t) => {
      const score = await make();
      const occ = await faithfulness(score, strongest);
      const wrong = await faithfulness(score, weakest);
      t.diagnostic(`${kind}: occlusion ${(occ.rate * 100).toFixed(1)}% of ${occ.pairs} pairs; the weakest event ranked first ${(wrong.rate * 100).toFixed(1)}%`);
      assert.ok(occ.pairs >= 500, `pairs ${occ.pairs}`);
      assert.ok(occ.rate >= 0.8, `${kind} faithfulness ${occ.rate}`);
      // the criterion can fail: an attribution that ranks the weakest event first does
      assert.ok(wrong.rate < 0.5, `${kind}: the weakest-first attribution passes the criterion (${wrong.rate})`);
    });
  }

  it('scores the window once whole and once without each event, and weighs by the difference', async () => {
    // an additive toy model: score(item) = sum over the window of item * position-free weights
    const calls: number[][] = [];
    const score: WindowScorer = (history, _t, candidates) => {
      calls.push(Array.from(history));
      return Float32Array.from(candidates, (c) => Array.from(history).reduce((s, h) => s + (h === c ? 2 : h === c - 1 ? 1 : 0), 0));
    };
    const [x] = await explainByOcclusion(Int32Array.of(4, 5, 9), Uint8Array.of(0, 3, 4), Int32Array.of(5), score);
    assert.deepEqual(calls, [[4, 5, 9], [5, 9], [4, 9], [4, 5]]);
    assert.equal(x!.score, 3);
    assert.deepEqual(
      x!.events.map((e) => [e.position, e.item, e.type, e.weight]),
      [
        [1, 5, 3, 2],
        [0, 4, 0, 1],
        [2, 9, 4, 0],
      ],
    );
    assert.deepEqual(await explainByOcclusion(new Int32Array(0), new Uint8Array(0), Int32Array.of(1), () => Float32Array.of(0.5)), [{ item: 1, score: 0.5, events: [] }]);
    await assert.rejects(explainByOcclusion(Int32Array.of(1), new Uint8Array(0), Int32Array.of(1), score), /differ in length/);
  });
});

describe(reasonText.name, () => {
  it('names the strongest events that pushed the item up, with their verbs', () => {
    const ev = (item: number, type: keyof typeof EVENT_TYPE_CODE, weight: number): EventAttribution => ({ position: 0, item, type: EVENT_TYPE_CODE[type], weight });
    const label = (i: number) => `i${i}`;
    assert.equal(reasonText([ev(1, 'view', 0.5), ev(2, 'add_to_cart', 0.2), ev(3, 'purchase', 0.1)], label), 'viewed i1, added i2 to cart');
    assert.equal(reasonText([ev(3, 'purchase', 0.1), ev(4, 'click', -0.2)], label, 3), 'bought i3');
    assert.equal(reasonText([ev(4, 'click', -0.2)], label), null);
  });
});
