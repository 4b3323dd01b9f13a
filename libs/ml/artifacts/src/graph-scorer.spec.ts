import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoocRecommender, ItemKnnRecommender, PopRecommender, itemCounts, type GraphModel, type Recommender } from '@seqrec/datasets';
import { FsModelStore } from '@seqrec/model-store';
import { loadArtifact, saveGraphArtifact } from './artifacts';
import { GraphScorer } from './graph-scorer';

const N = 60;

/** Seeded sequences with local structure (walks with small steps), so graphs have many edges of varied weight. */
function sequences(users: number, seed: number): Int32Array[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: users }, () => {
    const len = 3 + Math.floor(rand() * 15);
    let it = 1 + Math.floor(rand() * N);
    return Int32Array.from({ length: len }, () => (it = 1 + ((it - 1 + Math.floor(rand() * 7) - 2 + N) % N)));
  });
}

const train = sequences(400, 7);
const histories = sequences(50, 99);

type Fitted = Recommender & { asGraph(): GraphModel };
const MODELS: Array<[string, () => Fitted]> = [
  ['cooc', () => new CoocRecommender({ neighbours: 12 }).fit(train, N)],
  ['itemknn', () => new ItemKnnRecommender({ neighbours: 12 }).fit(train, N)],
  ['itemknn, order-blind', () => new ItemKnnRecommender({ neighbours: 12, decay: 1 }).fit(train, N)],
  ['pop', () => new PopRecommender().fit(train, N)],
];

/** The dense reference: every item's score, best first (ties: smaller index), excluded items skipped. */
function denseTopK(scores: Float32Array, offset: number, k: number, exclude: Set<number>): Array<[number, number]> {
  const all: Array<[number, number]> = [];
  for (let j = 1; j <= N; j++) if (!exclude.has(j)) all.push([j, scores[offset + j]!]);
  all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return all.slice(0, k);
}

describe(GraphScorer.name, () => {
  for (const [name, make] of MODELS) {
    it(`${name}: top-k and candidate scores equal the evaluated recommender's dense scores`, async () => {
      const rec = make();
      const scorer = new GraphScorer(rec.asGraph());
      const dense = await rec.scoreBatch(histories);
      const width = N + 1;
      histories.forEach((h, b) => {
        const exclude = b % 3 === 0 ? Array.from(h.slice(-2)) : [];
        for (const k of [1, 10, N]) {
          const want = denseTopK(dense, b * width, k, new Set(exclude));
          const got = scorer.topK(h, k, exclude);
          assert.equal(got.items.length, want.length, `history ${b}, k ${k}: length`);
          for (let q = 0; q < want.length; q++) {
            // Same score at every rank; the item there scores that (float32 sums may swap exact ties).
            assert.ok(Math.abs(got.scores[q]! - want[q]![1]) <= 1e-6 * Math.max(1, Math.abs(want[q]![1])), `history ${b}, k ${k}, rank ${q}: ${got.scores[q]} vs ${want[q]![1]}`);
            assert.ok(Math.abs(dense[b * width + got.items[q]!]! - got.scores[q]!) <= 1e-6 * Math.max(1, Math.abs(got.scores[q]!)), `history ${b}: item ${got.items[q]} at rank ${q}`);
            assert.ok(!exclude.includes(got.items[q]!), `history ${b}: excluded item ${got.items[q]} returned`);
          }
          assert.equal(new Set(got.items).size, got.items.length, 'no item twice');
        }
        const candidates = Int32Array.of(0, 1, h[h.length - 1]!, N, 7, 7);
        const scores = scorer.score(h, candidates);
        candidates.forEach((c, q) => {
          const want = c === 0 ? 0 : dense[b * width + c]!;
          assert.ok(Math.abs(scores[q]! - want) <= 1e-6 * Math.max(1, Math.abs(want)), `history ${b}, candidate ${c}: ${scores[q]} vs ${want}`);
        });
      });
    });
  }

  it('similar items are the graph neighbours, strongest first; none for pop or an unknown index', () => {
    const rec = new ItemKnnRecommender({ neighbours: 12 }).fit(train, N);
    const g = rec.similarities;
    const scorer = new GraphScorer(rec.asGraph());
    const top = scorer.similar(5, 4);
    assert.deepEqual(Array.from(top.items), Array.from(g.neighbours.slice(g.offsets[5]!, g.offsets[5]! + 4)));
    for (let q = 1; q < top.scores.length; q++) assert.ok(top.scores[q - 1]! >= top.scores[q]!);
    assert.ok(!top.items.includes(5), 'the item itself is not its neighbour');
    assert.equal(new GraphScorer(new PopRecommender().fit(train, N).asGraph()).similar(5, 4).items.length, 0);
    assert.equal(scorer.similar(0, 4).items.length, 0);
    // Co-occurrence can link an item to itself (a repeat): similar items leave it out.
    const repeats = new CoocRecommender().fit([Int32Array.of(1, 1, 2), Int32Array.of(1, 1, 3), Int32Array.of(1, 2)], 3);
    const g1 = repeats.transitions;
    assert.ok(Array.from(g1.neighbours.slice(g1.offsets[1]!, g1.offsets[2]!)).includes(1), 'the graph has 1 → 1');
    assert.deepEqual(Array.from(new GraphScorer(repeats.asGraph()).similar(1, 5).items).sort(), [2, 3]);
    assert.equal(scorer.similar(N + 1, 4).items.length, 0);
  });
});

describe('graph artifacts', () => {
  let dir: string;
  let store: FsModelStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'graph-artifact-'));
    store = new FsModelStore(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const vocabulary = ['', ...Array.from({ length: N }, (_, i) => `item-${i + 1}`)];
  const manifest = (model: string, version: string) => ({ model, version, createdAt: new Date().toISOString(), data: 'test', metrics: {}, backend: 'none', details: { kind: model } });

  it('save → load gives a graph artifact that answers exactly as the fitted model', async () => {
    const rec = new CoocRecommender({ neighbours: 12 }).fit(train, N);
    await saveGraphArtifact(store, { manifest: manifest('cooc', 'v1'), model: rec.asGraph(), vocabulary, popularity: itemCounts(train, N) });
    const art = await loadArtifact(store, 'cooc', 'v1');
    assert.equal(art.kind, 'graph');
    assert.equal(art.encoder, undefined);
    assert.deepEqual(art.graph!.model.rule, rec.rule);
    const mem = new GraphScorer(rec.asGraph());
    for (const h of histories.slice(0, 10)) {
      assert.deepEqual(art.graph!.topK(h, 10), mem.topK(h, 10));
      assert.deepEqual(art.graph!.score(h, Int32Array.of(1, 2, 3)), mem.score(h, Int32Array.of(1, 2, 3)));
    }
    assert.equal(art.index.get('item-3'), 3);
  });

  it('refuses a damaged graph, naming the file and the fault', async () => {
    const rec = new ItemKnnRecommender({ neighbours: 12 }).fit(train, N);
    await saveGraphArtifact(store, { manifest: manifest('itemknn', 'v1'), model: rec.asGraph(), vocabulary, popularity: itemCounts(train, N) });
    const bin = join(store.location('itemknn', 'v1'), 'graph.bin');
    const good = await readFile(bin);
    await writeFile(bin, good.subarray(0, good.length - 4));
    await assert.rejects(loadArtifact(store, 'itemknn', 'v1'), /graph\.bin: \d+ bytes, expected \d+ for 60 items/);
    const bad = Buffer.from(good);
    bad.writeInt32LE(N + 5, 4 * (N + 2)); // the first edge points past the catalogue
    await writeFile(bin, bad);
    await assert.rejects(loadArtifact(store, 'itemknn', 'v1'), /edge 0 points at item 65 outside 1\.\.60/);
  });

  it('refuses an evaluation-only artifact (no encoder, no graph), naming its kind', async () => {
    await store.publish(manifest('bpr-mf', 'v1'), async (d) => {
      await writeFile(join(d, 'vocabulary.json'), JSON.stringify(vocabulary));
      await writeFile(join(d, 'popularity.json'), JSON.stringify(Array.from(itemCounts(train, N))));
    });
    await assert.rejects(loadArtifact(store, 'bpr-mf', 'v1'), /bpr-mf@v1 is not servable: a bpr-mf artifact has neither an encoder/);
  });
});
